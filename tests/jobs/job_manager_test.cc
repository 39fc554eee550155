#include "jobs/job_manager.h"

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

namespace inferd::jobs {
namespace {

const std::string kBody = R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[2.5]}]})";

// A fake engine: answers with the first input renamed "y", or holds requests until released.
class FakeEngine {
 public:
  JobManager::Runner Runner() {
    return [this](InferenceRequest request, JobManager::InferDone done) {
      ++started;
      InferenceResponse response;
      response.model_name = request.model_name;
      Tensor y = request.inputs.at(0);
      y.set_name("y");
      response.outputs.push_back(std::move(y));
      if (hold) {
        MutexLock lock(mu);
        held.push_back([done, response]() mutable { done(std::move(response)); });
        return std::function<void()>([] {});
      }
      done(std::move(response));
      return std::function<void()>([] {});
    };
  }
  void ReleaseAll() EXCLUDES(mu) {
    std::vector<std::function<void()>> go;
    {
      MutexLock lock(mu);
      go.swap(held);
    }
    for (auto& f : go) f();
  }
  std::atomic<int> started{0};
  bool hold = false;
  Mutex mu;
  std::vector<std::function<void()>> held GUARDED_BY(mu);
};

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("inferd_job_manager_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<JobManager> Make(size_t max_queued = 10, int64_t ttl = 3600) {
    JobManager::Options o;
    o.db_path = (dir_ / "jobs.db").string();
    o.max_queued = max_queued;
    o.ttl_seconds = ttl;
    o.workers = 1;
    o.runner = engine_.Runner();
    auto m = JobManager::Create(std::move(o));
    EXPECT_TRUE(m.ok()) << m.status().message();
    return std::move(m).value();
  }

  static JobState WaitForEnd(JobManager& m, const std::string& owner, const std::string& id) {
    for (int i = 0; i < 500; ++i) {
      auto job = m.Get(owner, id, false);
      if (job.ok() && IsTerminal(job->state)) return job->state;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return JobState::kRunning;
  }

  FakeEngine engine_;
  std::filesystem::path dir_;
};

TEST_F(JobManagerTest, RunsAJobAndStoresItsV2Response) {
  auto m = Make();
  auto job = m->Submit("me", "mlp", 0, {kBody, std::nullopt}, "");
  ASSERT_TRUE(job.ok()) << job.status().message();
  ASSERT_EQ(WaitForEnd(*m, "me", job->id), JobState::kDone);
  auto done = m->Get("me", job->id, true);
  EXPECT_EQ(done->attempts, 1);
  EXPECT_NE(done->result.find("\"name\":\"y\""), std::string::npos) << done->result;
  EXPECT_FALSE(done->result_header_length.has_value());
}

TEST_F(JobManagerTest, OtherOwnersSeeNoJob) {
  auto m = Make();
  auto job = m->Submit("me", "mlp", 0, {kBody, std::nullopt}, "");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(m->Get("you", job->id, false).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(m->Cancel("you", job->id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(m->List("you", "", 10)->jobs.empty());
  EXPECT_EQ(m->List("me", "", 10)->jobs.size(), 1u);
}

TEST_F(JobManagerTest, RefusesJobsBeyondTheQueueBound) {
  engine_.hold = true;
  auto m = Make(/*max_queued=*/2);
  std::vector<std::string> ids;
  // One runs (held by the engine), two wait; the fourth finds the queue full.
  for (int i = 0; i < 3; ++i) {
    auto job = m->Submit("me", "mlp", 0, {kBody, std::nullopt}, "");
    ASSERT_TRUE(job.ok()) << i << ": " << job.status().message();
    ids.push_back(job->id);
    if (i == 0) {
      for (int k = 0; k < 200 && engine_.started.load() == 0; ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  }
  auto refused = m->Submit("me", "mlp", 0, {kBody, std::nullopt}, "");
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(m->MetricsText().find("inferd_jobs_rejected_total 1"), std::string::npos);
  engine_.hold = false;
  engine_.ReleaseAll();
  for (const auto& id : ids) EXPECT_EQ(WaitForEnd(*m, "me", id), JobState::kDone);
}

TEST_F(JobManagerTest, CancelsAQueuedJobAndDeletesAnEndedOne) {
  engine_.hold = true;
  auto m = Make();
  auto running = m->Submit("me", "mlp", 0, {kBody, std::nullopt}, "");
  auto queued = m->Submit("me", "mlp", 0, {kBody, std::nullopt}, "");
  ASSERT_TRUE(running.ok() && queued.ok());
  auto cancelled = m->Cancel("me", queued->id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_FALSE(cancelled->deleted);
  EXPECT_EQ(cancelled->job.state, JobState::kCancelled);
  engine_.hold = false;
  engine_.ReleaseAll();
  ASSERT_EQ(WaitForEnd(*m, "me", running->id), JobState::kDone);
  EXPECT_EQ(engine_.started.load(), 1);  // the cancelled job never ran
  auto deleted = m->Cancel("me", running->id);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->deleted);
  EXPECT_EQ(m->Get("me", running->id, false).status().code(), StatusCode::kNotFound);
}

TEST_F(JobManagerTest, FailsAJobWhoseStoredRequestDoesNotDecode) {
  auto m = Make();
  auto job = m->Submit("me", "mlp", 0, {"{not json", std::nullopt}, "");
  ASSERT_TRUE(job.ok());
  ASSERT_EQ(WaitForEnd(*m, "me", job->id), JobState::kFailed);
  EXPECT_FALSE(m->Get("me", job->id, false)->error.empty());
}

TEST_F(JobManagerTest, RefusesCallbacksUnlessEnabled) {
  auto m = Make();
  auto job = m->Submit("me", "mlp", 0, {kBody, std::nullopt}, "http://127.0.0.1:1/cb");
  EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(JobManagerTest, PagesThroughAnOwnersJobs) {
  auto m = Make();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(m->Submit("me", "mlp", 0, {kBody, std::nullopt}, "").ok());
  auto first = m->List("me", "", 2);
  ASSERT_EQ(first->jobs.size(), 2u);
  ASSERT_FALSE(first->next_page_token.empty());
  auto second = m->List("me", first->next_page_token, 2);
  auto third = m->List("me", second->next_page_token, 2);
  EXPECT_EQ(third->jobs.size(), 1u);
  EXPECT_TRUE(third->next_page_token.empty());
  EXPECT_EQ(m->List("me", "bogus", 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m->List("me", "", 0).status().code(), StatusCode::kInvalidArgument);
}

TEST(JobOwner, IsTheTokenHashNeverTheToken) {
  const std::string owner = OwnerOf("Bearer s3cret");
  EXPECT_EQ(owner.size(), 64u);
  EXPECT_EQ(owner.find("s3cret"), std::string::npos);
  EXPECT_EQ(owner, OwnerOf("bearer s3cret"));
  EXPECT_NE(owner, OwnerOf("Bearer other"));
  EXPECT_EQ(OwnerOf(std::nullopt), "");
  EXPECT_NE(NewJobId(), NewJobId());
  EXPECT_EQ(NewJobId().size(), 32u);
}

}  // namespace
}  // namespace inferd::jobs
