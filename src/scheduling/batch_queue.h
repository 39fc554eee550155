// BatchQueue: the decision logic of the dynamic batcher, free of threads and clocks. It holds
// queued payloads in priority levels, enforces queue sizes and timeouts, and answers "given the
// time now, which payloads form the next batch, or until when should a worker wait?".
// Time is always passed in, so unit tests drive it with a fake clock. Not thread-safe: the
// DynamicBatcher calls it under its mutex.
//
// Batch formation (Triton's semantics, see docs/scheduling.md):
//  * a batch holds BatchCompatible requests (same inputs in any order, dtypes, non-batch dims and
//    requested outputs), counted by rows, never more than max_batch_size rows; candidates are
//    taken in priority order, oldest first, skipping (not reordering) incompatible ones;
//  * it is dispatched when it reaches max_batch_size rows, or a preferred batch size (the
//    largest one the queue can fill, once no larger one can be reached), or when its oldest
//    request has waited the queue delay; with a delay of zero it is dispatched at once;
//  * the queue delay is max_queue_delay_microseconds, or, in adaptive mode, chosen from the
//    measured engine time per batch and the measured arrival rate (AdaptiveDelay());
//  * the delay is a maximum: a batch goes early when waiting cannot add to it. The queue knows
//    how many rows its clients keep in the server (queued + executing: the peak over the last
//    two windows of `population_window`, its "population"). When every one of those rows is
//    already queued or executing, no request is coming to join, and a free instance runs what
//    is there at once. With several free instances the rows still outside are shared between
//    them, so a closed loop of N clients splits into staggered batches that overlap one
//    another's network time. After a cold start or an idle spell the population is what has
//    arrived since, so a lone request runs at once and a burst batches while it runs. A model
//    whose executions are short (`eager_below`) never waits for stragglers at all: a free
//    instance runs what is queued, and batches form from what arrives while it is busy.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include <absl/container/inlined_vector.h>

#include "scheduling/padding.h"
#include "scheduling/scheduler.h"

namespace inferd::scheduling {

struct QueuePolicy {
  size_t max_queue_size = 0;                     // requests; 0 = unbounded
  std::chrono::microseconds default_timeout{0};  // 0 = no timeout
  bool allow_timeout_override = false;           // honour a shorter "timeout" request parameter
};

struct BatchQueueOptions {
  int64_t max_batch_size = 1;                    // rows
  std::vector<int64_t> preferred_batch_sizes;    // rows; ascending
  std::chrono::microseconds max_queue_delay{0};  // fixed delay, or the adaptive cap
  bool adaptive_delay = false;
  // Dispatch before the delay when every row the clients keep in the server is already here
  // (see above); false waits the delay as Triton does.
  bool early_dispatch = true;
  // How long a peak of rows in the server counts as the client population.
  std::chrono::milliseconds population_window{100};
  // With early dispatch: when executions average at most this long, a free instance runs what
  // is queued without waiting for the rest of the population (a batch saves such a model less
  // than the wait costs). 0 = always wait for the population.
  std::chrono::microseconds eager_below{0};
  uint32_t priority_levels = 1;             // >= 1
  uint32_t default_priority_level = 0;      // 0-based
  std::vector<QueuePolicy> queue_policies;  // one per level (or empty: defaults)
  // Padded batching: requests batch by the bucket of their length, not their exact shape.
  std::shared_ptr<const PaddingSpec> padding;
};

class BatchQueue {
 public:
  using TimePoint = SteadyClock::time_point;

  explicit BatchQueue(BatchQueueOptions options);

  // Queues `payload` (whose priority_level, deadline and batch_hash must be set, see
  // PreparePayload). On rejection returns UNAVAILABLE and leaves `payload` with the caller.
  Status Add(std::unique_ptr<InferencePayload>& payload, TimePoint now);

  // A batch's payloads; small batches (and a lone request) stay inline.
  using Batch = absl::InlinedVector<std::unique_ptr<InferencePayload>, 4>;

  struct Decision {
    Batch batch;                                               // run these together now
    std::vector<std::unique_ptr<InferencePayload>> expired;    // answer with DEADLINE_EXCEEDED
    std::vector<std::unique_ptr<InferencePayload>> cancelled;  // the client left
    std::optional<TimePoint> wake_at;  // when nothing is due: the next time something may be
  };
  // `flush`: dispatch what is queued without waiting for the queue delay (shutdown).
  // `free_instances`: engine instances idle now, counting the caller's (>= 1).
  // The rows of a returned batch count as executing until RecordExecution.
  Decision Next(TimePoint now, bool flush = false, size_t free_instances = 1);

  // One engine execution of `rows` rows (a batch Next returned) took `duration`: its rows are
  // no longer executing, and the adaptive delay learns the engine time.
  void RecordExecution(SteadyClock::duration duration, int64_t rows);

  // Rows the clients keep in the server (queued + executing) at their recent peak.
  int64_t population() const;

  // The delay a batch of `rows` pending rows may wait now (fixed or adaptive).
  SteadyClock::duration QueueDelay(int64_t rows) const;

  size_t size() const { return size_; }
  const BatchQueueOptions& options() const { return options_; }

 private:
  SteadyClock::duration AdaptiveDelay(int64_t rows) const;
  // Starts a new population window when the current one is over.
  void RollWindow(TimePoint now);
  // Whether waiting cannot add rows: every row of the population is queued or executing (the
  // rows not executing shared among `free_instances`).
  bool NothingMoreComing(size_t free_instances) const;

  // A queued request and its priority level.
  struct Candidate {
    size_t level;
    InferencePayload* payload;
  };
  // The requests that may run with a head request: compatible with it, by priority level,
  // oldest first, up to max_batch_size rows.
  struct Gathered {
    absl::InlinedVector<Candidate, 16> candidates;
    int64_t rows = 0;
    bool full = false;  // max_batch_size reached, or the next request did not fit (no overtaking)
    TimePoint oldest;   // the earliest arrival among them
  };
  // Moves the requests that can no longer run (cancelled, or past their deadline) into `d`.
  void TakeUnrunnable(TimePoint now, Decision& d);
  // The earliest deadline of a queued request (TimePoint::max() when none has one).
  TimePoint EarliestDeadline() const;
  Gathered Gather(const InferencePayload& head) const;
  // How many of the gathered (a prefix) leave now; 0 = wait, with d.wake_at set to when.
  size_t BatchLength(const Gathered& g, TimePoint now, bool flush, size_t free_instances,
                     Decision& d) const;
  // Moves the first `take` gathered requests from the queue into d.batch; their rows now
  // execute.
  void Dispatch(const Gathered& g, size_t take, Decision& d);

  const BatchQueueOptions options_;
  std::vector<std::deque<std::unique_ptr<InferencePayload>>> levels_;
  size_t size_ = 0;
  // Adaptive-delay estimates (exponentially weighted moving averages, nanoseconds).
  double exec_ns_ = 0;          // engine time per execution
  double interarrival_ns_ = 0;  // time between arrivals
  std::optional<TimePoint> last_arrival_;
  // Population (see above): rows queued and executing now, the peak of rows in the server in
  // the current window and in the one before.
  int64_t queued_rows_ = 0;
  int64_t executing_rows_ = 0;
  int64_t window_peak_ = 0;
  int64_t previous_peak_ = 0;
  std::optional<TimePoint> window_start_;
};

// Fills the payload fields the queue needs from its request: priority level (request parameter
// "priority", 1-based as in Triton; 0 or absent = the default level), deadline (parameter
// "timeout" in microseconds, or the level's default timeout), batch hash and, with padded
// batching, length (batching then compares the length's bucket instead of the length).
// INVALID_ARGUMENT for a priority outside 1..priority_levels, a negative timeout, or padded
// inputs of different lengths.
Status PreparePayload(const BatchQueueOptions& options, InferencePayload& payload,
                      SteadyClock::time_point now);

// Whether two prepared payloads may share a batch: the same input names (in any order) with
// the same dtypes and non-batch dims (with padding: the same length bucket on the padded axis),
// and the same requested outputs in the same order. Allocates nothing.
bool BatchCompatible(const InferencePayload& a, const InferencePayload& b,
                     const PaddingSpec* padding);

}  // namespace inferd::scheduling
