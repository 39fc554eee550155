#include "scheduling/dynamic_batcher.h"

#include <fmt/format.h>
#include <pthread.h>

#include "core/duration.h"
#include "scheduling/batch_executor.h"

namespace inferd::scheduling {

Result<std::unique_ptr<DynamicBatcher>> DynamicBatcher::Create(
    std::vector<std::unique_ptr<backends::ModelInstance>> instances, Options options) {
  if (instances.empty()) return InvalidArgument("a scheduler needs at least one instance");
  if (options.queue.max_batch_size < 1) {
    return InvalidArgument("dynamic batching needs max_batch_size >= 1");
  }
  return std::unique_ptr<DynamicBatcher>(
      new DynamicBatcher(std::move(instances), std::move(options)));
}

DynamicBatcher::DynamicBatcher(std::vector<std::unique_ptr<backends::ModelInstance>> instances,
                               Options options)
    : options_(std::move(options)), instances_(std::move(instances)), queue_(options_.queue) {
  {
    MutexLock lock(mu_);
    for (auto& instance : instances_) free_.push_back(instance.get());
  }
}

void DynamicBatcher::StartWorkerIfNeeded() {
  if (stopping_) return;
  workers_.StartIfNeeded([this] {
    const std::string thread_name = fmt::format("b:{}", options_.name).substr(0, 15);
    pthread_setname_np(pthread_self(), thread_name.c_str());
    WorkerLoop();
  });
}

bool DynamicBatcher::InlineAllowed() const {
  if (options_.inline_max_compute_us == 0) return false;
  const uint64_t mean = mean_run_ns_.load(std::memory_order_relaxed);
  // Unmeasured models (the first batch after a load) go to a worker.
  return mean > 0 && mean <= uint64_t{options_.inline_max_compute_us} * 1000;
}

DynamicBatcher::~DynamicBatcher() {
  std::vector<std::thread> threads;
  {
    MutexLock lock(mu_);
    // Queued work runs before the workers end; it needs one.
    if (queue_.size() > 0) StartWorkerIfNeeded();
    stopping_ = true;
    threads = workers_.TakeAll();
  }
  cv_.NotifyAll();
  for (auto& t : threads) t.join();
}

void DynamicBatcher::Reject(std::unique_ptr<InferencePayload> payload, const Status& status,
                            metrics::FailureReason reason) {
  if (payload->stats) {
    payload->stats->RecordFailure(NanosSince(payload->enqueue_time), reason);
  }
  payload->done(status);
}

void DynamicBatcher::Enqueue(std::unique_ptr<InferencePayload> payload) {
  const auto now = SteadyClock::now();
  Status prepared = PreparePayload(options_.queue, *payload, now);
  if (!prepared.ok()) {
    if (payload->stats) payload->stats->RecordFailure(0, metrics::FailureReason::kOther);
    payload->done(prepared);  // before sequencing: nothing waits on it
    return;
  }
  Status added;
  BatchQueue::Decision decision;
  backends::ModelInstance* inline_instance = nullptr;
  bool more = false;
  bool instance_free = false;  // a waiting worker could use this request now
  {
    MutexLock lock(mu_);
    payload->sequence = next_sequence_++;
    if (options_.preserve_ordering) {
      // Every completion of this payload (response, rejection, timeout) goes through the
      // reorder buffer.
      payload->done = [this, sequence = payload->sequence,
                       done = std::move(payload->done)](Result<InferenceResponse> r) mutable {
        DeliverInOrder(sequence, std::move(done), std::move(r));
      };
    }
    if (stopping_) {
      added = Unavailable(fmt::format("model '{}' is unloading", options_.name));
    } else {
      added = queue_.Add(payload, now);
      if (!added.ok()) added = added.WithContext(fmt::format("model '{}'", options_.name));
    }
    if (added.ok() && !free_.empty() && InlineAllowed()) {
      decision = queue_.Next(now, /*flush=*/false, free_.size());
      if (!decision.batch.empty()) {
        inline_instance = free_.back();
        free_.pop_back();
        more = queue_.size() > 0 && !free_.empty();
        if (more) StartWorkerIfNeeded();
      }
    }
    // Not run here: a worker decides (it runs the batch when due, or waits for the delay).
    if (added.ok() && inline_instance == nullptr && queue_.size() > 0) StartWorkerIfNeeded();
    instance_free = !free_.empty();
  }
  if (!added.ok()) return Reject(std::move(payload), added, metrics::FailureReason::kRejected);
  if (inline_instance == nullptr) {
    // With every instance busy, a waiting worker could only go back to sleep (it waits for an
    // instance without a deadline): the instance that comes back notifies, having seen this
    // request queued under the same lock.
    if (instance_free) cv_.NotifyOne();
    Carry(decision, nullptr);
    return;
  }
  if (more) cv_.NotifyOne();  // what did not fit may go to another free instance
  inline_runs_.fetch_add(1, std::memory_order_relaxed);
  uint64_t spent_ns = 0;  // engine time this thread spent on the model's requests
  if (Carry(decision, inline_instance, &spent_ns)) RunQueuedInline(spent_ns);
}

void DynamicBatcher::RunQueuedInline(uint64_t spent_ns) {
  // Requests that queued while this thread held the instance (other I/O threads') are looked
  // at here too: a batch the queue's policy makes due now runs on this thread, for up to one
  // more inline limit of time, instead of waking the worker for it. A batch that should wait
  // for its delay (or more rows) is the worker's.
  const uint64_t budget_ns = uint64_t{options_.inline_max_compute_us} * 1000;
  bool more = true;
  while (more) {
    BatchQueue::Decision next;
    backends::ModelInstance* instance = nullptr;
    {
      MutexLock lock(mu_);
      if (!stopping_ && spent_ns < budget_ns && !free_.empty() && InlineAllowed()) {
        next = queue_.Next(SteadyClock::now(), /*flush=*/false, free_.size());
        if (!next.batch.empty()) {
          instance = free_.back();
          free_.pop_back();
        }
      }
      more = queue_.size() > 0;
      if (instance == nullptr && more) StartWorkerIfNeeded();
    }
    if (instance == nullptr) {
      Carry(next, nullptr);  // expired or cancelled requests it found
      if (more) cv_.NotifyOne();
      return;
    }
    inline_runs_.fetch_add(1, std::memory_order_relaxed);
    uint64_t took_ns = 0;
    more = Carry(next, instance, &took_ns);
    spent_ns += took_ns;
  }
}

size_t DynamicBatcher::queued() const {
  MutexLock lock(mu_);
  return queue_.size();
}

void DynamicBatcher::DeliverInOrder(uint64_t sequence,
                                    std::function<void(Result<InferenceResponse>)> done,
                                    Result<InferenceResponse> result) {
  {
    MutexLock lock(order_mu_);
    finished_.emplace(sequence, Finished{std::move(done), std::move(result)});
    // Another thread is delivering: it picks this result up in turn. Two threads each calling
    // their own run of ready callbacks would interleave them out of order.
    if (delivering_) return;
    delivering_ = true;
  }
  std::vector<Finished> ready;
  for (;;) {
    {
      MutexLock lock(order_mu_);
      for (auto it = finished_.find(next_to_deliver_); it != finished_.end();
           it = finished_.find(next_to_deliver_)) {
        ready.push_back(std::move(it->second));
        finished_.erase(it);
        ++next_to_deliver_;
      }
      if (ready.empty()) {
        delivering_ = false;
        return;
      }
    }
    for (auto& f : ready) f.done(std::move(f.result));  // outside the lock, in order
    ready.clear();
  }
}

bool DynamicBatcher::Carry(BatchQueue::Decision& decision, backends::ModelInstance* instance,
                           uint64_t* took_ns) {
  for (auto& p : decision.expired) {
    Reject(std::move(p),
           DeadlineExceeded(
               fmt::format("request timed out in the queue of model '{}'", options_.name)),
           metrics::FailureReason::kRejected);
  }
  for (auto& p : decision.cancelled) {
    Reject(std::move(p), Unavailable("request cancelled: the client disconnected"),
           metrics::FailureReason::kCanceled);
  }
  if (instance == nullptr) return false;
  const auto start = SteadyClock::now();
  bool more = false;
  bool returned = false;
  // The instance is free and the rows have left the engine before their clients hear back
  // (outputs own their bytes): a client that answers at once finds the instance free and is
  // not counted twice in the queue's population.
  ExecuteBatch(*instance, decision.batch, [&](const BatchOutcome& outcome) {
    const uint64_t took = NanosSince(start);
    if (took_ns != nullptr) *took_ns = took;
    const uint64_t mean = mean_run_ns_.load(std::memory_order_relaxed);
    mean_run_ns_.store(mean == 0 ? took : mean - mean / 8 + took / 8, std::memory_order_relaxed);
    MutexLock lock(mu_);
    queue_.RecordExecution(outcome.engine_time, outcome.rows);
    free_.push_back(instance);
    returned = true;
    more = queue_.size() > 0;
  }, options_.queue.padding.get());
  if (!returned) {  // ExecuteBatch promises the call; an instance must never be lost
    MutexLock lock(mu_);
    free_.push_back(instance);
    more = queue_.size() > 0;
  }
  // The queue may be due now that the population's rows have left the engine, and a waiting
  // worker needs this instance: the caller notifies it (or looks at the queue itself).
  return more;
}

void DynamicBatcher::WorkerLoop() {
  for (;;) {
    BatchQueue::Decision decision;
    backends::ModelInstance* instance = nullptr;
    bool more = false;
    {
      MutexLock lock(mu_);
      for (;;) {
        if (stopping_ && queue_.size() == 0) {
          workers_.Ended();
          return;
        }
        if (queue_.size() == 0) {
          // Nothing to do: wait for work, and end after a while without any.
          workers_.EnterIdle();
          const bool work = cv_.WaitFor(mu_, WorkerSet::kIdleExit, [this]() REQUIRES(mu_) {
            return stopping_ || queue_.size() > 0;
          });
          workers_.LeaveIdle();
          if (!work) {
            workers_.Ended();
            return;
          }
          continue;
        }
        workers_.EnterIdle();  // waiting for an instance or the delay: new work may wake it
        if (free_.empty()) {   // every instance runs a batch; one coming back notifies
          cv_.Wait(mu_);
          workers_.LeaveIdle();
          continue;
        }
        decision = queue_.Next(SteadyClock::now(), /*flush=*/stopping_, free_.size());
        if (!decision.batch.empty() || !decision.expired.empty() || !decision.cancelled.empty()) {
          workers_.LeaveIdle();
          break;
        }
        if (decision.wake_at) {
          cv_.WaitUntil(mu_, *decision.wake_at);
        } else {
          cv_.Wait(mu_);
        }
        workers_.LeaveIdle();
      }
      if (!decision.batch.empty()) {
        instance = free_.back();
        free_.pop_back();
      }
      more = queue_.size() > 0 && !free_.empty();
      // Another instance may form the next batch while this one runs.
      if (more) StartWorkerIfNeeded();
    }
    if (more) cv_.NotifyOne();
    if (Carry(decision, instance)) cv_.NotifyOne();
  }
}

}  // namespace inferd::scheduling
