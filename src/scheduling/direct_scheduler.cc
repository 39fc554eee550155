#include "scheduling/direct_scheduler.h"

#include <fmt/format.h>
#include <pthread.h>

#include "core/duration.h"
#include "scheduling/batch_executor.h"

namespace inferd::scheduling {

namespace {}  // namespace

Result<std::unique_ptr<DirectScheduler>> DirectScheduler::Create(
    std::vector<std::unique_ptr<backends::ModelInstance>> instances, const Options& options) {
  if (instances.empty()) return InvalidArgument("a scheduler needs at least one instance");
  return std::unique_ptr<DirectScheduler>(new DirectScheduler(std::move(instances), options));
}

DirectScheduler::DirectScheduler(std::vector<std::unique_ptr<backends::ModelInstance>> instances,
                                 const Options& options)
    : options_(options), instances_(std::move(instances)) {
  for (size_t i = 0; i < instances_.size(); ++i) {
    workers_.emplace_back([this, i] {
      const std::string thread_name = fmt::format("w:{}", options_.name).substr(0, 15);
      pthread_setname_np(pthread_self(), thread_name.c_str());
      WorkerLoop(instances_[i].get());
    });
  }
}

DirectScheduler::~DirectScheduler() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  for (auto& t : workers_) t.join();
}

void DirectScheduler::Enqueue(std::unique_ptr<InferencePayload> payload) {
  Status rejected;
  {
    MutexLock lock(mu_);
    if (stopping_) {
      rejected = Unavailable(fmt::format("model '{}' is unloading", options_.name));
    } else if (options_.max_queue_size > 0 && queue_.size() >= options_.max_queue_size) {
      rejected = Unavailable(fmt::format("model '{}' queue is full ({} requests waiting)",
                                         options_.name, queue_.size()));
    } else {
      queue_.push_back(std::move(payload));
    }
  }
  if (!rejected.ok()) {
    if (payload->stats) {
      payload->stats->RecordFailure(NanosSince(payload->enqueue_time),
                                    metrics::FailureReason::kRejected);
    }
    payload->done(std::move(rejected));  // outside the lock: done may do real work
    return;
  }
  cv_.NotifyOne();
}

size_t DirectScheduler::queued() const {
  MutexLock lock(mu_);
  return queue_.size();
}

void DirectScheduler::WorkerLoop(backends::ModelInstance* instance) {
  for (;;) {
    std::unique_ptr<InferencePayload> payload;
    {
      MutexLock lock(mu_);
      cv_.Wait(mu_, [this]() NO_THREAD_SAFETY_ANALYSIS { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      payload = std::move(queue_.front());
      queue_.pop_front();
    }
    const auto& cancelled = payload->request.cancelled;
    if (cancelled && cancelled->load(std::memory_order_relaxed)) {
      if (payload->stats) {
        payload->stats->RecordFailure(NanosSince(payload->enqueue_time),
                                      metrics::FailureReason::kCanceled);
      }
      payload->done(Unavailable("request cancelled: the client disconnected"));
      continue;
    }
    ExecuteBatch(*instance, std::span(&payload, 1));
  }
}

}  // namespace inferd::scheduling
