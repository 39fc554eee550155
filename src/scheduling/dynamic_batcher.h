// DynamicBatcher: the scheduler for models with `dynamic_batching`. Requests wait in a
// BatchQueue (priority levels, queue limits, timeouts); one worker thread per engine instance
// takes the next batch the queue decides on, runs it with ExecuteBatch and records its engine
// time for the adaptive delay. With preserve_ordering, responses are delivered in arrival
// order even when instances finish out of order. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "backends/backend.h"
#include "core/mutex.h"
#include "scheduling/batch_queue.h"
#include "scheduling/scheduler.h"

namespace inferd::scheduling {

class DynamicBatcher final : public Scheduler {
 public:
  struct Options {
    BatchQueueOptions queue;
    bool preserve_ordering = false;
    std::string name;  // "model:version", for messages and thread names
  };

  static Result<std::unique_ptr<DynamicBatcher>> Create(
      std::vector<std::unique_ptr<backends::ModelInstance>> instances, Options options);
  // Stops taking work, runs what is queued, joins the workers.
  ~DynamicBatcher() override;

  void Enqueue(std::unique_ptr<InferencePayload> payload) override EXCLUDES(mu_);
  size_t queued() const override EXCLUDES(mu_);

 private:
  DynamicBatcher(std::vector<std::unique_ptr<backends::ModelInstance>> instances, Options options);
  void WorkerLoop(backends::ModelInstance* instance) EXCLUDES(mu_);
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
  bool stopping_ GUARDED_BY(mu_) = false;
  uint64_t next_sequence_ GUARDED_BY(mu_) = 0;

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

  std::vector<std::thread> workers_;
};

}  // namespace inferd::scheduling
