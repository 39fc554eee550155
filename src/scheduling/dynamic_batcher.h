// DynamicBatcher: the scheduler for models with `dynamic_batching`. Requests wait in a
// BatchQueue (priority levels, queue limits, timeouts, when to dispatch); a free engine
// instance runs the next batch the queue decides on with ExecuteBatch, and the queue learns
// its engine time. Worker threads (at most one per instance, started when work is queued and
// ended after idling: WorkerSet) wait for batches; a batch that is due the
// moment a request arrives, for a model whose executions are short (`inline_max_compute_us`),
// runs on the enqueuing thread instead, as in the DirectScheduler, so a lone request on an idle
// model pays no thread hand-off. With preserve_ordering, responses are delivered in arrival
// order even when instances finish out of order. Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "backends/backend.h"
#include "core/mutex.h"
#include "scheduling/batch_queue.h"
#include "scheduling/scheduler.h"
#include "scheduling/worker_set.h"

namespace inferd::scheduling {

class DynamicBatcher final : public Scheduler {
 public:
  struct Options {
    BatchQueueOptions queue;
    bool preserve_ordering = false;
    std::string name;  // "model:version", for messages and thread names
    // Run a due batch on the enqueuing thread when an instance is free and batch executions
    // average at most this many microseconds (an exponentially weighted mean); 0 = never.
    uint32_t inline_max_compute_us = 0;
  };

  static Result<std::unique_ptr<DynamicBatcher>> Create(
      std::vector<std::unique_ptr<backends::ModelInstance>> instances, Options options);
  // Stops taking work, runs what is queued, joins the workers.
  ~DynamicBatcher() override;

  void Enqueue(std::unique_ptr<InferencePayload> payload) override EXCLUDES(mu_);
  size_t queued() const override EXCLUDES(mu_);
  // Batches run on the enqueuing thread so far (for tests and statistics).
  uint64_t inline_runs() const { return inline_runs_.load(std::memory_order_relaxed); }

 private:
  DynamicBatcher(std::vector<std::unique_ptr<backends::ModelInstance>> instances, Options options);
  void WorkerLoop() EXCLUDES(mu_);
  // Starts a worker for queued work unless one is idle or every instance has one.
  void StartWorkerIfNeeded() REQUIRES(mu_);
  // Answers the expired and cancelled payloads of `decision`, runs its batch on `instance`
  // (when it has one), then gives the instance back and lets the queue learn the run.
  // Returns whether requests were queued when the instance came back (then a worker, or the
  // inline caller, should look at the queue); `took_ns`: the batch's run time.
  bool Carry(BatchQueue::Decision& decision, backends::ModelInstance* instance,
             uint64_t* took_ns = nullptr) EXCLUDES(mu_);
  bool InlineAllowed() const;
  // After an inline run: runs what became due meanwhile on this thread too, while the
  // inline limit (less `spent_ns` already spent) lasts; the rest is the worker's.
  void RunQueuedInline(uint64_t spent_ns) EXCLUDES(mu_);
  // preserve_ordering: delivers `result` for arrival number `sequence` once every earlier
  // arrival has been delivered.
  void DeliverInOrder(uint64_t sequence, std::function<void(Result<InferenceResponse>)> done,
                      Result<InferenceResponse> result) EXCLUDES(order_mu_);
  void Reject(std::unique_ptr<InferencePayload> payload, const Status& status,
              metrics::FailureReason reason);

  const Options options_;
  std::vector<std::unique_ptr<backends::ModelInstance>> instances_;

  mutable Mutex mu_;
  CondVar cv_;
  BatchQueue queue_ GUARDED_BY(mu_);
  std::vector<backends::ModelInstance*> free_ GUARDED_BY(mu_);  // instances not running
  bool stopping_ GUARDED_BY(mu_) = false;
  uint64_t next_sequence_ GUARDED_BY(mu_) = 0;
  // Mean batch run time up to the engine's answer, ns (EWMA, weight 1/8); 0 = not measured.
  std::atomic<uint64_t> mean_run_ns_{0};
  std::atomic<uint64_t> inline_runs_{0};

  // preserve_ordering: results that finished ahead of an earlier request.
  struct Finished {
    std::function<void(Result<InferenceResponse>)> done;
    Result<InferenceResponse> result;
  };
  Mutex order_mu_;
  uint64_t next_to_deliver_ GUARDED_BY(order_mu_) = 0;
  std::map<uint64_t, Finished> finished_ GUARDED_BY(order_mu_);
  // Whether a thread is running callbacks now. Only that thread delivers, so callbacks run one
  // at a time in arrival order even though they run outside order_mu_.
  bool delivering_ GUARDED_BY(order_mu_) = false;

  WorkerSet workers_ GUARDED_BY(mu_){instances_.size()};
};

}  // namespace inferd::scheduling
