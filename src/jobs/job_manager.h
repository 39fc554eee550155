// JobManager: durable asynchronous inference (`Prefer: respond-async`). A submitted request is
// written to the JobStore (SQLite) and queued; the manager's worker threads run queued jobs
// through a Runner (in the server: handler::RequestHandler::Infer, so admission-free but
// otherwise exactly the synchronous path), store the encoded v2 response, and hand ended jobs
// with a callback URL to the CallbackSender. Ended jobs are removed `ttl_seconds` after they
// end. Jobs belong to an owner (a hash of the creator's bearer token): other owners see
// NOT_FOUND. On start-up, jobs left `running` by a crash are failed ("interrupted by
// restart"), never run twice; queued jobs run. Thread-safe; nothing here waits on inference
// except the manager's own workers.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/inference_request.h"
#include "core/mutex.h"
#include "core/status.h"
#include "jobs/job_callbacks.h"
#include "jobs/job_store.h"

namespace inferd::jobs {

class JobManager {
 public:
  using InferDone = std::function<void(Result<InferenceResponse>)>;
  // Starts `request`; calls `done` exactly once, on any thread. Returns a function that
  // cancels the request while it still waits in its model's queue.
  using Runner = std::function<std::function<void()>(InferenceRequest, InferDone)>;

  struct Options {
    std::string db_path = {};     // the SQLite database; required
    size_t max_queued = 1000;     // queued jobs at most; more are refused (RESOURCE_EXHAUSTED)
    int64_t ttl_seconds = 86400;  // ended jobs are removed this long after they end; 0 = never
    int workers = 2;              // jobs run at once
    bool allow_callbacks = false;  // accept a callback URL with a job
    CallbackSender::Options callbacks = {};
    Runner runner = {};           // required
  };

  struct Page {
    std::vector<JobRecord> jobs;
    std::string next_page_token;  // "" = no more
  };

  // Opens the store, fails interrupted jobs, queues the queued ones and starts the workers.
  static Result<std::unique_ptr<JobManager>> Create(Options options);
  ~JobManager();  // Stop()

  // RESOURCE_EXHAUSTED when the queue is full; INVALID_ARGUMENT for a bad callback URL (or
  // any callback URL when callbacks are off); UNAVAILABLE once stopping.
  Result<JobRecord> Submit(std::string owner, std::string model, int64_t version,
                           JobInput input, std::string callback_url) EXCLUDES(mu_);
  // NOT_FOUND when there is no such job or it belongs to another owner.
  Result<JobRecord> Get(std::string_view owner, std::string_view id, bool with_result);
  // Cancels a queued or running job (returned, now cancelled); an ended job is deleted
  // instead (returned with `deleted` set).
  struct CancelOutcome {
    JobRecord job;
    bool deleted = false;
  };
  Result<CancelOutcome> Cancel(std::string_view owner, std::string_view id) EXCLUDES(mu_);
  // `limit` 1..1000; `page_token` "" or one a previous page returned.
  Result<Page> List(std::string_view owner, std::string_view page_token, int limit);
  // Removes jobs that ended more than ttl_seconds ago (the sweeper calls it every second).
  Result<int> RemoveExpired();

  // Stops taking jobs, lets the jobs that are running finish (queued ones stay queued in the
  // store for the next start) and joins the threads. Idempotent.
  void Stop() EXCLUDES(mu_);

  std::string MetricsText() EXCLUDES(mu_);
  bool allow_callbacks() const { return options_.allow_callbacks; }

 private:
  explicit JobManager(Options options, std::unique_ptr<JobStore> store);
  void WorkerLoop() EXCLUDES(mu_);
  void SweeperLoop() EXCLUDES(mu_);
  void RunJob(const std::string& id) EXCLUDES(mu_);
  void Ended(const std::string& id, JobState state);

  const Options options_;
  const std::unique_ptr<JobStore> store_;
  CallbackSender callbacks_;

  Mutex mu_;
  CondVar cv_;        // a job was queued, or stop (workers)
  CondVar sweep_cv_;  // stop (the sweeper)
  std::deque<std::string> queue_ GUARDED_BY(mu_);
  // Running jobs and how to cancel their inference (empty until it has started).
  std::map<std::string, std::function<void()>, std::less<>> running_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;

  std::atomic<uint64_t> submitted_{0}, rejected_{0}, done_{0}, failed_{0}, cancelled_{0},
      expired_{0};
};

// The owner of a job created with `authorization` (an Authorization header value, if any): the
// hex SHA-256 of its bearer token, so the store never holds a token; "" without one.
std::string OwnerOf(std::optional<std::string_view> authorization);

// A fresh job id: 16 random bytes as 32 lowercase hex characters.
std::string NewJobId();

int64_t UnixMillisNow();

}  // namespace inferd::jobs
