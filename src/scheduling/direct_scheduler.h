// DirectScheduler: no batching. One FIFO shared by N instances and at most one worker thread
// per instance (started when work is queued, ended after idling: WorkerSet); each worker takes
// the oldest payload and a free instance and runs the payload alone. Used for models without
// dynamic_batching.
//
// Inline execution: when nothing is queued, an instance is free, and the model's executions
// have recently taken at most `inline_max_compute_us` on average, Enqueue runs the payload on
// the calling thread (the frontend thread that parsed it) instead of waking a worker — no
// thread hand-off, and its completion runs on that thread too. A model that turns slow stops
// being run inline within a few executions, so a frontend thread is never held long.
// Destruction stops accepting work, finishes what is queued, joins workers.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "backends/backend.h"
#include "core/mutex.h"
#include "scheduling/scheduler.h"
#include "scheduling/worker_set.h"

namespace inferd::scheduling {

class DirectScheduler final : public Scheduler {
 public:
  struct Options {
    // Payloads that may wait; 0 = unbounded. Over the limit, payloads get UNAVAILABLE.
    size_t max_queue_size = 0;
    // Prefix for worker thread names and log lines ("mlp:1").
    std::string name;
    // Run a payload on the enqueuing thread when an instance is free and executions average
    // at most this many microseconds (an exponentially weighted mean); 0 = never.
    uint32_t inline_max_compute_us = 0;
  };

  static Result<std::unique_ptr<DirectScheduler>> Create(
      std::vector<std::unique_ptr<backends::ModelInstance>> instances, const Options& options);
  ~DirectScheduler() override;

  void Enqueue(std::unique_ptr<InferencePayload> payload) override;
  size_t queued() const override;
  // Payloads run on the enqueuing thread so far (for tests and statistics).
  uint64_t inline_runs() const { return inline_runs_.load(std::memory_order_relaxed); }

 private:
  DirectScheduler(std::vector<std::unique_ptr<backends::ModelInstance>> instances,
                  const Options& options);
  void WorkerLoop();
  // Starts a worker for queued work unless one is idle or every instance has one.
  void StartWorkerIfNeeded() REQUIRES(mu_);
  // Runs one payload on `instance` (or drops it when cancelled) and updates the mean; returns
  // the nanoseconds it took.
  uint64_t Run(backends::ModelInstance* instance, std::unique_ptr<InferencePayload> payload);
  bool InlineAllowed() const;

  const Options options_;
  std::vector<std::unique_ptr<backends::ModelInstance>> instances_;
  mutable Mutex mu_;
  CondVar cv_;
  std::deque<std::unique_ptr<InferencePayload>> queue_ GUARDED_BY(mu_);
  std::vector<backends::ModelInstance*> free_ GUARDED_BY(mu_);  // instances not running
  bool stopping_ GUARDED_BY(mu_) = false;
  WorkerSet workers_ GUARDED_BY(mu_){instances_.size()};
  // Mean execution time, ns (EWMA, weight 1/8); 0 = nothing measured yet.
  std::atomic<uint64_t> mean_compute_ns_{0};
  std::atomic<uint64_t> inline_runs_{0};
};

}  // namespace inferd::scheduling
