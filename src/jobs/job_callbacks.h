// CallbackSender: delivers job completion callbacks — a POST of the ended job's JSON (its
// state, without the result) to the URL given at submission — on its own thread, retrying a
// failed delivery (no answer, or a non-2xx status) with exponential backoff. A callback is
// marked delivered (or given up) in the JobStore, so one still pending at a crash is sent again
// at the next start: a receiver may see a callback twice and should key on the job id.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "jobs/job_store.h"

namespace inferd::jobs {

class CallbackSender {
 public:
  struct Options {
    int max_attempts = 5;             // deliveries tried before giving up
    int64_t initial_backoff_ms = 200;  // wait before the 2nd try; doubles each time
    long timeout_ms = 5000;            // one POST, connect included
  };

  // `store` must outlive the sender.
  CallbackSender(JobStore* store, const Options& options);
  ~CallbackSender();  // Stop()

  void Enqueue(const JobRecord& job) EXCLUDES(mu_);
  // Drops what is not yet delivered (it stays pending in the store) and joins the thread.
  void Stop() EXCLUDES(mu_);

  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  uint64_t given_up() const { return given_up_.load(std::memory_order_relaxed); }
  uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Delivery {
    std::string id;
    std::string url;
    std::string body;
    int attempts = 0;
    Clock::time_point due;
  };
  void Run() EXCLUDES(mu_);

  JobStore* const store_;
  const Options options_;
  Mutex mu_;
  CondVar cv_;
  std::vector<Delivery> pending_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
  std::atomic<uint64_t> delivered_{0}, given_up_{0}, retries_{0};
};

// The job as JSON (id, state, model, model_version, attempts, error, times; no result).
std::string JobJson(const JobRecord& job);

}  // namespace inferd::jobs
