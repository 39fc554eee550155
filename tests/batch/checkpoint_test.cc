#include "batch/checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace inferd::batch {
namespace {

std::string TempPath(const char* name) {
  return (std::filesystem::temp_directory_path() /
          (std::string(name) + "." + std::to_string(getpid())))
      .string();
}

TEST(Checkpoint, SavedStateLoadsBackAndLeavesNoTemporaryFile) {
  const std::string path = TempPath("checkpoint_roundtrip");
  Checkpoint saved{.fingerprint = "model=m input=/x size=10",
                   .input_position = 4096,
                   .input_line = 77,
                   .next_block = 3,
                   .output_bytes = 999,
                   .error_bytes = 12,
                   .rows_ok = 70,
                   .rows_failed = 7};
  ASSERT_TRUE(SaveCheckpoint(path, saved).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto loaded = LoadCheckpoint(path);
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  const Checkpoint& c = **loaded;
  EXPECT_EQ(c.fingerprint, saved.fingerprint);
  EXPECT_EQ(c.input_position, 4096u);
  EXPECT_EQ(c.input_line, 77);
  EXPECT_EQ(c.next_block, 3);
  EXPECT_EQ(c.output_bytes, 999u);
  EXPECT_EQ(c.error_bytes, 12u);
  EXPECT_EQ(c.rows_ok, 70);
  EXPECT_EQ(c.rows_failed, 7);
  std::filesystem::remove(path);
}

TEST(Checkpoint, NoFileIsNoCheckpointAndAGarbledOneIsAnError) {
  const std::string path = TempPath("checkpoint_garbled");
  std::filesystem::remove(path);
  auto none = LoadCheckpoint(path);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  std::ofstream(path) << "inferd-predict-checkpoint 1\nfingerprint\nnot numbers\n";
  EXPECT_FALSE(LoadCheckpoint(path).ok());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace inferd::batch
