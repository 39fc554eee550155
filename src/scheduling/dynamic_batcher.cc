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
  for (size_t i = 0; i < instances_.size(); ++i) {
    workers_.emplace_back([this, i] {
      const std::string thread_name = fmt::format("b:{}", options_.name).substr(0, 15);
      pthread_setname_np(pthread_self(), thread_name.c_str());
      WorkerLoop(instances_[i].get());
    });
  }
}

DynamicBatcher::~DynamicBatcher() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  for (auto& t : workers_) t.join();
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
  }
  if (!added.ok()) return Reject(std::move(payload), added, metrics::FailureReason::kRejected);
  cv_.NotifyAll();
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

void DynamicBatcher::WorkerLoop(backends::ModelInstance* instance) {
  for (;;) {
    BatchQueue::Decision decision;
    {
      MutexLock lock(mu_);
      for (;;) {
        decision = queue_.Next(SteadyClock::now());
        if (!decision.batch.empty() || !decision.expired.empty() || !decision.cancelled.empty()) {
          break;
        }
        if (stopping_ && queue_.size() == 0) return;
        if (stopping_) {
          // Queued work waits for a delay that no new request will end: run it now.
          decision = queue_.Next(SteadyClock::now(), /*flush=*/true);
          break;
        }
        if (decision.wake_at) {
          cv_.WaitUntil(mu_, *decision.wake_at);
        } else {
          cv_.Wait(mu_);
        }
      }
    }
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
    if (decision.batch.empty()) continue;
    const BatchOutcome outcome = ExecuteBatch(*instance, decision.batch);
    MutexLock lock(mu_);
    queue_.RecordExecution(outcome.engine_time, outcome.rows);
  }
}

}  // namespace inferd::scheduling
