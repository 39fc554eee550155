#include "scheduling/batch_queue.h"

#include <absl/container/inlined_vector.h>
#include <absl/hash/hash.h>
#include <absl/types/span.h>
#include <fmt/format.h>

#include <algorithm>

namespace inferd::scheduling {
namespace {

constexpr double kArrivalWeight = 0.1;  // EWMA weight of the newest inter-arrival sample
constexpr double kExecWeight = 0.2;     // EWMA weight of the newest execution sample
// Longer gaps say "idle", not "how busy": clipping them lets the estimate recover quickly.
constexpr double kMaxInterarrivalNs = 100e6;

// The length bucket of a padded batch's payload; 0 without padding.
int64_t Bucket(const InferencePayload& p, const PaddingSpec* padding) {
  return padding != nullptr ? PaddedLength(*padding, p.length) : 0;
}

// Whether `a` and `b` are the same input for batching: dtype and every dim but the batch dim,
// where the padded axis (if any) counts by its bucket.
bool SameBatchInput(const Tensor& a, int64_t a_bucket, const Tensor& b, int64_t b_bucket,
                    const PaddingSpec* padding) {
  if (a.dtype() != b.dtype() || a.shape().size() != b.shape().size()) return false;
  const PaddingSpec::Input* padded = padding != nullptr ? padding->FindInput(a.name()) : nullptr;
  for (size_t i = 1; i < a.shape().size(); ++i) {
    if (padded != nullptr && i == padded->axis) {
      if (a_bucket != b_bucket) return false;
    } else if (a.shape()[i] != b.shape()[i]) {
      return false;
    }
  }
  return true;
}

// A hash of what BatchCompatible compares: equal for compatible payloads, so that the queue
// compares in full only payloads whose hashes match.
uint64_t BatchKeyHash(const InferencePayload& p, const PaddingSpec* padding) {
  const int64_t bucket = Bucket(p, padding);
  // Inputs combine by sum: the hash does not depend on their order in the request.
  uint64_t inputs = 0;
  for (const Tensor& t : p.request.inputs) {
    const PaddingSpec::Input* padded =
        padding != nullptr ? padding->FindInput(t.name()) : nullptr;
    absl::InlinedVector<int64_t, 8> dims;
    for (size_t i = 1; i < t.shape().size(); ++i) {
      dims.push_back(padded != nullptr && i == padded->axis ? -bucket : t.shape()[i]);
    }
    inputs += absl::HashOf(t.name(), static_cast<int>(t.dtype()), absl::MakeConstSpan(dims));
  }
  return absl::HashOf(inputs, absl::MakeConstSpan(p.output_names));
}

}  // namespace

bool BatchCompatible(const InferencePayload& a, const InferencePayload& b,
                     const PaddingSpec* padding) {
  if (a.batch_hash != b.batch_hash || a.request.inputs.size() != b.request.inputs.size() ||
      a.output_names.size() != b.output_names.size()) {
    return false;
  }
  const int64_t a_bucket = Bucket(a, padding);
  const int64_t b_bucket = Bucket(b, padding);
  for (const Tensor& t : a.request.inputs) {
    const Tensor* match = nullptr;
    for (const Tensor& u : b.request.inputs) {
      if (u.name() == t.name()) {
        match = &u;
        break;
      }
    }
    if (match == nullptr || !SameBatchInput(t, a_bucket, *match, b_bucket, padding)) {
      return false;
    }
  }
  return std::equal(a.output_names.begin(), a.output_names.end(), b.output_names.begin());
}

BatchQueue::BatchQueue(BatchQueueOptions options) : options_(std::move(options)) {
  levels_.resize(std::max<uint32_t>(1, options_.priority_levels));
}

Status BatchQueue::Add(std::unique_ptr<InferencePayload>& payload, TimePoint now) {
  const uint32_t level = std::min<uint32_t>(payload->priority_level, levels_.size() - 1);
  const QueuePolicy policy =
      level < options_.queue_policies.size() ? options_.queue_policies[level] : QueuePolicy{};
  auto& queue = levels_[level];
  if (policy.max_queue_size > 0 && queue.size() >= policy.max_queue_size) {
    return Unavailable(fmt::format("request queue is full ({} requests waiting at priority {})",
                                   queue.size(), level + 1));
  }
  if (last_arrival_) {
    const double gap = std::min<double>(
        kMaxInterarrivalNs, std::chrono::duration<double, std::nano>(now - *last_arrival_).count());
    interarrival_ns_ = interarrival_ns_ == 0
                           ? gap
                           : (1 - kArrivalWeight) * interarrival_ns_ + kArrivalWeight * gap;
  }
  last_arrival_ = now;
  RollWindow(now);
  queued_rows_ += payload->batch_size;
  window_peak_ = std::max(window_peak_, queued_rows_ + executing_rows_);
  queue.push_back(std::move(payload));
  ++size_;
  return Status::Ok();
}

void BatchQueue::RecordExecution(SteadyClock::duration duration, int64_t rows) {
  const double ns = std::chrono::duration<double, std::nano>(duration).count();
  exec_ns_ = exec_ns_ == 0 ? ns : (1 - kExecWeight) * exec_ns_ + kExecWeight * ns;
  executing_rows_ = std::max<int64_t>(0, executing_rows_ - rows);
}

void BatchQueue::RollWindow(TimePoint now) {
  if (!window_start_) {
    window_start_ = now;
    return;
  }
  const auto elapsed = now - *window_start_;
  if (elapsed < options_.population_window) return;
  // A window with no arrival at all leaves only what is in the server now as the peak.
  previous_peak_ = elapsed < 2 * options_.population_window ? window_peak_
                                                             : queued_rows_ + executing_rows_;
  window_peak_ = queued_rows_ + executing_rows_;
  window_start_ = now;
}

int64_t BatchQueue::population() const { return std::max(previous_peak_, window_peak_); }

bool BatchQueue::NothingMoreComing(size_t free_instances) const {
  if (!options_.early_dispatch) return false;
  if (exec_ns_ > 0 &&
      exec_ns_ <= std::chrono::duration<double, std::nano>(options_.eager_below).count()) {
    return true;
  }
  const int64_t outside = population() - executing_rows_;
  const int64_t share = free_instances <= 1
                            ? outside
                            : (outside + static_cast<int64_t>(free_instances) - 1) /
                                  static_cast<int64_t>(free_instances);
  return queued_rows_ >= share;
}

SteadyClock::duration BatchQueue::AdaptiveDelay(int64_t rows) const {
  // Waiting pays only when requests arrive faster than one execution takes; otherwise the next
  // request probably comes after a batch would have finished, so run what is here now.
  if (exec_ns_ == 0 || interarrival_ns_ == 0 || interarrival_ns_ >= exec_ns_) {
    return SteadyClock::duration::zero();
  }
  const int64_t target = options_.preferred_batch_sizes.empty()
                             ? options_.max_batch_size
                             : options_.preferred_batch_sizes.back();
  const int64_t missing = target - rows;
  if (missing <= 0) return SteadyClock::duration::zero();
  // Never wait longer than one execution (an instance would be free by then anyway), than the
  // time the missing rows should take to arrive, or than the configured cap.
  double wait_ns = std::min(exec_ns_, static_cast<double>(missing) * interarrival_ns_);
  if (options_.max_queue_delay.count() > 0) {
    wait_ns = std::min(wait_ns,
                       std::chrono::duration<double, std::nano>(options_.max_queue_delay).count());
  }
  return std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::duration<double, std::nano>(wait_ns));
}

SteadyClock::duration BatchQueue::QueueDelay(int64_t rows) const {
  if (options_.adaptive_delay) return AdaptiveDelay(rows);
  return options_.max_queue_delay;
}

void BatchQueue::TakeUnrunnable(TimePoint now, Decision& d) {
  for (auto& queue : levels_) {
    for (auto it = queue.begin(); it != queue.end();) {
      InferencePayload& p = **it;
      if (p.request.cancelled && p.request.cancelled->load(std::memory_order_relaxed)) {
        d.cancelled.push_back(std::move(*it));
      } else if (p.deadline <= now) {
        d.expired.push_back(std::move(*it));
      } else {
        ++it;
        continue;
      }
      queued_rows_ -= p.batch_size;
      it = queue.erase(it);
      --size_;
    }
  }
}

BatchQueue::TimePoint BatchQueue::EarliestDeadline() const {
  TimePoint earliest = TimePoint::max();
  for (const auto& queue : levels_) {
    for (const auto& p : queue) earliest = std::min(earliest, p->deadline);
  }
  return earliest;
}

BatchQueue::Gathered BatchQueue::Gather(const InferencePayload& head) const {
  Gathered g;
  g.oldest = head.enqueue_time;
  for (size_t l = 0; l < levels_.size() && !g.full; ++l) {
    for (const auto& p : levels_[l]) {
      if (!BatchCompatible(*p, head, options_.padding.get())) continue;
      if (g.rows + p->batch_size > options_.max_batch_size) {
        g.full = true;
        break;
      }
      g.candidates.push_back({l, p.get()});
      g.rows += p->batch_size;
      g.oldest = std::min(g.oldest, p->enqueue_time);
    }
  }
  if (g.rows >= options_.max_batch_size) g.full = true;
  return g;
}

size_t BatchQueue::BatchLength(const Gathered& g, TimePoint now, bool flush,
                               size_t free_instances, Decision& d) const {
  if (g.full) return g.candidates.size();
  // The largest preferred size that a prefix of the candidates fills exactly.
  size_t take = 0;
  int64_t cumulative = 0;
  for (size_t i = 0; i < g.candidates.size(); ++i) {
    cumulative += g.candidates[i].payload->batch_size;
    if (std::binary_search(options_.preferred_batch_sizes.begin(),
                           options_.preferred_batch_sizes.end(), cumulative)) {
      take = i + 1;
    }
  }
  if (take > 0) return take;
  const TimePoint due = g.oldest + QueueDelay(g.rows);
  if (flush || due <= now || NothingMoreComing(free_instances)) return g.candidates.size();
  d.wake_at = due;
  return 0;
}

void BatchQueue::Dispatch(const Gathered& g, size_t take, Decision& d) {
  d.batch.reserve(take);
  for (size_t i = 0; i < take; ++i) {
    auto& queue = levels_[g.candidates[i].level];
    auto it = std::find_if(queue.begin(), queue.end(),
                           [&](const auto& p) { return p.get() == g.candidates[i].payload; });
    queued_rows_ -= (*it)->batch_size;
    executing_rows_ += (*it)->batch_size;
    d.batch.push_back(std::move(*it));
    queue.erase(it);
    --size_;
  }
}

BatchQueue::Decision BatchQueue::Next(TimePoint now, bool flush, size_t free_instances) {
  Decision d;
  RollWindow(now);
  TakeUnrunnable(now, d);  // answered at once: cancelled by the client, or past the deadline
  const InferencePayload* head = nullptr;
  for (auto& queue : levels_) {
    if (!queue.empty()) {
      head = queue.front().get();
      break;
    }
  }
  if (head == nullptr) return d;
  const Gathered gathered = Gather(*head);
  const size_t take = BatchLength(gathered, now, flush, free_instances, d);
  if (take == 0) {
    // Wake for the earliest deadline too, to answer it when it passes.
    const TimePoint deadline = EarliestDeadline();
    if (deadline != TimePoint::max() && (!d.wake_at || deadline < *d.wake_at)) {
      d.wake_at = deadline;
    }
    return d;
  }
  Dispatch(gathered, take, d);
  return d;
}

Status PreparePayload(const BatchQueueOptions& options, InferencePayload& payload,
                      SteadyClock::time_point now) {
  const Parameters& params = payload.request.parameters;
  const uint32_t levels = std::max<uint32_t>(1, options.priority_levels);
  payload.priority_level = std::min(options.default_priority_level, levels - 1);
  if (auto it = params.find("priority"); it != params.end()) {
    const int64_t* priority = std::get_if<int64_t>(&it->second);
    if (priority == nullptr || *priority < 0 || *priority > static_cast<int64_t>(levels)) {
      return InvalidArgument(fmt::format(
          "parameter 'priority' must be an integer from 1 to {} (or 0 for the default)", levels));
    }
    if (*priority > 0) payload.priority_level = static_cast<uint32_t>(*priority - 1);
  }

  const QueuePolicy policy = payload.priority_level < options.queue_policies.size()
                                 ? options.queue_policies[payload.priority_level]
                                 : QueuePolicy{};
  std::chrono::microseconds timeout = policy.default_timeout;
  if (auto it = params.find("timeout"); it != params.end()) {
    const int64_t* us = std::get_if<int64_t>(&it->second);
    if (us == nullptr || *us < 0) {
      return InvalidArgument("parameter 'timeout' must be a non-negative number of microseconds");
    }
    // As in Triton: a request may shorten the level's timeout (or set one where the level has
    // none) when the policy allows overrides, never lengthen it.
    const std::chrono::microseconds requested(*us);
    if (policy.allow_timeout_override && requested.count() > 0 &&
        (timeout.count() == 0 || requested < timeout)) {
      timeout = requested;
    }
  }
  payload.deadline = timeout.count() > 0 ? now + timeout : SteadyClock::time_point::max();

  const PaddingSpec* padding = options.padding.get();
  if (padding != nullptr) {
    ASSIGN_OR_RETURN(payload.length, RequestLength(*padding, payload.request));
  }
  payload.batch_hash = BatchKeyHash(payload, padding);
  return Status::Ok();
}

}  // namespace inferd::scheduling
