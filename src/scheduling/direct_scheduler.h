// DirectScheduler: no batching. One FIFO shared by N instances, one worker thread per instance;
// each worker takes the oldest payload and runs it alone. Used for models without
// dynamic_batching. Destruction stops accepting work, finishes what is queued, joins workers.
#pragma once

#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "backends/backend.h"
#include "core/mutex.h"
#include "scheduling/scheduler.h"

namespace inferd::scheduling {

class DirectScheduler final : public Scheduler {
 public:
  struct Options {
    // Payloads that may wait; 0 = unbounded. Over the limit, payloads get UNAVAILABLE.
    size_t max_queue_size = 0;
    // Prefix for worker thread names and log lines ("mlp:1").
    std::string name;
  };

  static Result<std::unique_ptr<DirectScheduler>> Create(
      std::vector<std::unique_ptr<backends::ModelInstance>> instances, const Options& options);
  ~DirectScheduler() override;

  void Enqueue(std::unique_ptr<InferencePayload> payload) override;
  size_t queued() const override;

 private:
  DirectScheduler(std::vector<std::unique_ptr<backends::ModelInstance>> instances,
                  const Options& options);
  void WorkerLoop(backends::ModelInstance* instance);

  const Options options_;
  std::vector<std::unique_ptr<backends::ModelInstance>> instances_;
  mutable Mutex mu_;
  CondVar cv_;
  std::deque<std::unique_ptr<InferencePayload>> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace inferd::scheduling
