#include "scheduling/direct_scheduler.h"

#include <fmt/format.h>
#include <pthread.h>

#include "core/duration.h"
#include "scheduling/batch_executor.h"

namespace inferd::scheduling {

Result<std::unique_ptr<DirectScheduler>> DirectScheduler::Create(
    std::vector<std::unique_ptr<backends::ModelInstance>> instances, const Options& options) {
  if (instances.empty()) return InvalidArgument("a scheduler needs at least one instance");
  return std::unique_ptr<DirectScheduler>(new DirectScheduler(std::move(instances), options));
}

DirectScheduler::DirectScheduler(std::vector<std::unique_ptr<backends::ModelInstance>> instances,
                                 const Options& options)
    : options_(options), instances_(std::move(instances)) {
  MutexLock lock(mu_);
  for (auto& instance : instances_) free_.push_back(instance.get());
}

void DirectScheduler::StartWorkerIfNeeded() {
  if (stopping_) return;
  workers_.StartIfNeeded([this] {
    const std::string thread_name = fmt::format("w:{}", options_.name).substr(0, 15);
    pthread_setname_np(pthread_self(), thread_name.c_str());
    WorkerLoop();
  });
}

bool DirectScheduler::InlineAllowed() const {
  if (options_.inline_max_compute_us == 0) return false;
  const uint64_t mean = mean_compute_ns_.load(std::memory_order_relaxed);
  // Unmeasured models (the first request after a load) go to a worker.
  return mean > 0 && mean <= uint64_t{options_.inline_max_compute_us} * 1000;
}

DirectScheduler::~DirectScheduler() {
  std::vector<std::thread> threads;
  {
    MutexLock lock(mu_);
    if (!queue_.empty()) StartWorkerIfNeeded();  // queued work runs before the workers end
    stopping_ = true;
    threads = workers_.TakeAll();
  }
  cv_.NotifyAll();
  for (auto& t : threads) t.join();
}

void DirectScheduler::Enqueue(std::unique_ptr<InferencePayload> payload) {
  Status rejected;
  backends::ModelInstance* inline_instance = nullptr;
  bool instance_free = false;  // a waiting worker could run this request now
  {
    MutexLock lock(mu_);
    if (!stopping_ && queue_.empty() && !free_.empty() && InlineAllowed()) {
      inline_instance = free_.back();
      free_.pop_back();
    } else if (stopping_) {
      rejected = Unavailable(fmt::format("model '{}' is unloading", options_.name));
    } else if (options_.max_queue_size > 0 && queue_.size() >= options_.max_queue_size) {
      rejected = Unavailable(fmt::format("model '{}' queue is full ({} requests waiting)",
                                         options_.name, queue_.size()));
    } else {
      queue_.push_back(std::move(payload));
      StartWorkerIfNeeded();
      instance_free = !free_.empty();
    }
  }
  if (inline_instance != nullptr) {
    inline_runs_.fetch_add(1, std::memory_order_relaxed);
    uint64_t spent_ns = Run(inline_instance, std::move(payload));
    // Requests that queued while this thread held the instance (other I/O threads') run here
    // too, in queue order, for up to one more inline limit of time: handing them to a worker
    // means waking it and switching to it, which costs more than a fast model's run. Their
    // answers go back to their own threads as a worker's would.
    const uint64_t budget_ns = uint64_t{options_.inline_max_compute_us} * 1000;
    for (;;) {
      std::unique_ptr<InferencePayload> next;
      bool wake = false;
      {
        MutexLock lock(mu_);
        if (!queue_.empty() && !stopping_ && spent_ns < budget_ns && InlineAllowed()) {
          next = std::move(queue_.front());
          queue_.pop_front();
        } else {
          free_.push_back(inline_instance);
          wake = !queue_.empty();  // left over: a worker may now take the instance
          if (wake) StartWorkerIfNeeded();
        }
      }
      if (next == nullptr) {
        if (wake) cv_.NotifyOne();
        return;
      }
      inline_runs_.fetch_add(1, std::memory_order_relaxed);
      spent_ns += Run(inline_instance, std::move(next));
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
  // With every instance busy, the instance that comes back wakes a worker (it sees this
  // request under the same lock); waking one now would only put it back to sleep.
  if (instance_free) cv_.NotifyOne();
}

size_t DirectScheduler::queued() const {
  MutexLock lock(mu_);
  return queue_.size();
}

void DirectScheduler::WorkerLoop() {
  for (;;) {
    std::unique_ptr<InferencePayload> payload;
    backends::ModelInstance* instance = nullptr;
    {
      MutexLock lock(mu_);
      workers_.EnterIdle();
      // Work for a free instance; with nothing queued for a while, the worker ends.
      const bool ready = cv_.WaitFor(mu_, WorkerSet::kIdleExit, [this]() REQUIRES(mu_) {
        return (stopping_ && queue_.empty()) || (!queue_.empty() && !free_.empty());
      });
      workers_.LeaveIdle();
      if (!ready && !queue_.empty()) continue;  // queued, every instance busy: keep waiting
      if (queue_.empty()) {                     // idle too long, or stopping and drained
        workers_.Ended();
        return;
      }
      payload = std::move(queue_.front());
      queue_.pop_front();
      instance = free_.back();
      free_.pop_back();
    }
    Run(instance, std::move(payload));
    bool more = false;
    {
      MutexLock lock(mu_);
      free_.push_back(instance);
      more = !queue_.empty();
      if (more) StartWorkerIfNeeded();
    }
    if (more) cv_.NotifyOne();
  }
}

uint64_t DirectScheduler::Run(backends::ModelInstance* instance,
                              std::unique_ptr<InferencePayload> payload) {
  const auto& cancelled = payload->request.cancelled;
  if (cancelled && cancelled->load(std::memory_order_relaxed)) {
    if (payload->stats) {
      payload->stats->RecordFailure(NanosSince(payload->enqueue_time),
                                    metrics::FailureReason::kCanceled);
    }
    payload->done(Unavailable("request cancelled: the client disconnected"));
    return 0;
  }
  const auto start = SteadyClock::now();
  ExecuteBatch(*instance, std::span(&payload, 1));
  // The mean includes the completion callback: that, too, runs on the enqueuing thread when
  // the payload runs inline.
  const uint64_t took = NanosSince(start);
  const uint64_t mean = mean_compute_ns_.load(std::memory_order_relaxed);
  mean_compute_ns_.store(mean == 0 ? took : mean - mean / 8 + took / 8,
                         std::memory_order_relaxed);
  return took;
}

}  // namespace inferd::scheduling
