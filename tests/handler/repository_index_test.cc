// The repository index both transports answer, built once from the repository's status.
#include "handler/repository_index.h"

#include <gtest/gtest.h>

namespace inferd::handler {
namespace {

using repository::ModelState;

std::vector<repository::ModelStatus> Models() {
  repository::ModelStatus ok{
      "a",
      ModelState::kReady,
      "",
      {{1, ModelState::kReady, "", 0.5, 1024, 900}, {2, ModelState::kUnavailable, "boom"}},
      "pinned:1"};
  repository::ModelStatus bad{"b", ModelState::kUnavailable, "no versions", {}};
  return {ok, bad};
}

TEST(RepositoryIndex, OneEntryPerVersionAndOnePerModelWithoutVersions) {
  auto entries = BuildRepositoryIndex(Models(), /*ready_only=*/false);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].name, "a");
  EXPECT_EQ(entries[0].version, 1);
  EXPECT_EQ(entries[0].state, "READY");
  EXPECT_EQ(entries[0].routing, "pinned:1");
  EXPECT_EQ(entries[1].version, 2);
  EXPECT_EQ(entries[1].state, "UNAVAILABLE");
  EXPECT_EQ(entries[1].reason, "boom");
  EXPECT_EQ(entries[2].name, "b");
  EXPECT_FALSE(entries[2].version);
  EXPECT_EQ(entries[2].reason, "no versions");
}

// A model folder that was never loaded (explicit mode) is listed as Triton lists it: its name,
// no version, no state; a ready-only index leaves it out.
TEST(RepositoryIndex, ModelsNeverLoadedHaveNoStateAndNoVersion) {
  repository::ModelStatus never;
  never.name = "c";
  auto entries = BuildRepositoryIndex({never}, /*ready_only=*/false);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].name, "c");
  EXPECT_FALSE(entries[0].version);
  EXPECT_EQ(entries[0].state, "");
  EXPECT_TRUE(BuildRepositoryIndex({never}, /*ready_only=*/true).empty());
}

TEST(RepositoryIndex, ColdStartFiguresOnlyForReadyVersions) {
  auto entries = BuildRepositoryIndex(Models(), false);
  ASSERT_TRUE(entries[0].cold_start);
  EXPECT_DOUBLE_EQ(entries[0].cold_start->load_seconds, 0.5);
  EXPECT_EQ(entries[0].cold_start->memory_bytes, 1024u);
  EXPECT_EQ(entries[0].cold_start->first_response_us, 900);
  EXPECT_FALSE(entries[1].cold_start);
  EXPECT_FALSE(entries[2].cold_start);
}

TEST(RepositoryIndex, ReadyOnlyKeepsReadyVersions) {
  auto entries = BuildRepositoryIndex(Models(), /*ready_only=*/true);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].name, "a");
  EXPECT_EQ(entries[0].version, 1);
}

}  // namespace
}  // namespace inferd::handler
