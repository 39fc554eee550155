#include "jobs/job_store.h"

#include <filesystem>

#include <gtest/gtest.h>

namespace inferd::jobs {
namespace {

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("inferd_job_store_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "jobs.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<JobStore> Open() {
    auto store = JobStore::Open(path_);
    EXPECT_TRUE(store.ok()) << store.status().message();
    return std::move(store).value();
  }

  static JobRecord Job(std::string id, std::string owner, int64_t created_ms = 1) {
    JobRecord r;
    r.id = std::move(id);
    r.owner = std::move(owner);
    r.model = "mlp";
    r.created_ms = created_ms;
    return r;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(JobStoreTest, KeepsJobsInputsAndResultsAcrossReopen) {
  {
    auto store = Open();
    ASSERT_TRUE(store->Insert(Job("a", "o"), {"{\"inputs\":[]}", std::nullopt}).ok());
    ASSERT_TRUE(store->Insert(Job("b", "o"), {"hdrBIN", 3}).ok());
    ASSERT_TRUE(*store->MarkRunning("a", 5));
    ASSERT_TRUE(*store->Finish("a", JobState::kDone, "", "RESULT", 2, 7));
  }
  auto store = Open();
  auto a = store->Get("a", true);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->state, JobState::kDone);
  EXPECT_EQ(a->attempts, 1);
  EXPECT_EQ(a->result, "RESULT");
  EXPECT_EQ(a->result_header_length, 2u);
  EXPECT_EQ(a->finished_ms, 7);
  auto input = store->GetInput("b");
  ASSERT_TRUE(input.ok());
  EXPECT_EQ(input->body, "hdrBIN");
  EXPECT_EQ(input->header_length, 3u);
  EXPECT_EQ(*store->QueuedIds(), std::vector<std::string>{"b"});
}

TEST_F(JobStoreTest, FailsJobsInterruptedWhileRunning) {
  auto store = Open();
  ASSERT_TRUE(store->Insert(Job("a", "o"), {"x", std::nullopt}).ok());
  ASSERT_TRUE(store->Insert(Job("b", "o"), {"y", std::nullopt}).ok());
  ASSERT_TRUE(*store->MarkRunning("a", 5));
  EXPECT_EQ(*store->RecoverInterrupted(9), 1);
  auto a = store->Get("a", false);
  EXPECT_EQ(a->state, JobState::kFailed);
  EXPECT_EQ(a->error, "interrupted by restart");
  EXPECT_EQ(store->Get("b", false)->state, JobState::kQueued);
}

TEST_F(JobStoreTest, CancelledJobIsNeitherStartedNorFinished) {
  auto store = Open();
  ASSERT_TRUE(store->Insert(Job("a", "o"), {"x", std::nullopt}).ok());
  EXPECT_TRUE(*store->Cancel("a", 3));
  EXPECT_FALSE(*store->MarkRunning("a", 4));
  EXPECT_FALSE(*store->Cancel("a", 5));  // already ended
  ASSERT_TRUE(store->Insert(Job("b", "o"), {"x", std::nullopt}).ok());
  ASSERT_TRUE(*store->MarkRunning("b", 4));
  EXPECT_TRUE(*store->Cancel("b", 5));
  EXPECT_FALSE(*store->Finish("b", JobState::kDone, "", "R", std::nullopt, 6));
  EXPECT_EQ(store->Get("b", true)->result, "");
}

TEST_F(JobStoreTest, ListsOnlyTheOwnersJobsInPages) {
  auto store = Open();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store->Insert(Job("m" + std::to_string(i), "me"), {"x", std::nullopt}).ok());
    ASSERT_TRUE(store->Insert(Job("t" + std::to_string(i), "them"), {"x", std::nullopt}).ok());
  }
  auto first = store->List("me", 0, 3);
  ASSERT_EQ(first->size(), 3u);
  EXPECT_EQ((*first)[0].id, "m0");
  auto rest = store->List("me", first->back().seq, 10);
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ((*rest)[1].id, "m4");
}

TEST_F(JobStoreTest, RemovesEndedJobsPastTheirTtlOnly) {
  auto store = Open();
  ASSERT_TRUE(store->Insert(Job("old", "o"), {"x", std::nullopt}).ok());
  ASSERT_TRUE(store->Insert(Job("new", "o"), {"x", std::nullopt}).ok());
  ASSERT_TRUE(store->Insert(Job("queued", "o"), {"x", std::nullopt}).ok());
  ASSERT_TRUE(*store->Cancel("old", 100));
  ASSERT_TRUE(*store->Cancel("new", 300));
  EXPECT_EQ(*store->DeleteFinishedBefore(200), 1);
  EXPECT_FALSE(store->Get("old", false).ok());
  EXPECT_TRUE(store->Get("new", false).ok());
  EXPECT_TRUE(store->Get("queued", false).ok());
}

TEST_F(JobStoreTest, RefusesAFileThatIsNoDatabase) {
  {
    std::FILE* f = std::fopen(path_.c_str(), "w");
    std::fputs("this is not sqlite, just some text long enough to be looked at............", f);
    std::fclose(f);
  }
  auto store = JobStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(path_), std::string::npos);
}

}  // namespace
}  // namespace inferd::jobs
