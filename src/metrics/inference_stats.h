// InferenceStats: per model-version counters behind the statistics extension (Triton's
// ModelStatistics shape) and the Prometheus metrics: request outcomes (failures by reason),
// inference and execution counts, cumulative durations of each stage, per-batch-size execution
// statistics, response cache hits and misses, pending requests, and latency histograms.
// Recorded by schedulers and the facade from any thread; lock-free except RecordBatch, which
// takes a short lock once per engine execution.
//
// Recording contract for schedulers:
//   - per request: RecordSuccess(timings, rows) or RecordFailure(ns, reason);
//   - per engine execution: RecordBatch(batch_size, input_ns, infer_ns, output_ns), which
//     also counts the execution (the older RecordExecution() counts it without batch_stats);
//   - RecordSuccess for a request runs on the thread that then completes that request, so the
//     facade can read the request's own timings with TakeLastRecordedTimings() (see below).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <vector>

#include "core/mutex.h"
#include "metrics/histogram.h"

namespace inferd::metrics {

struct DurationStat {
  uint64_t count = 0;  // events
  uint64_t ns = 0;     // their summed duration in nanoseconds
};

// Why a request failed; the `reason` label of nv_inference_request_failure (Triton's values).
enum class FailureReason { kRejected = 0, kCanceled, kBackend, kOther };
inline constexpr int kFailureReasonCount = 4;
const char* FailureReasonName(FailureReason reason);  // "REJECTED", "CANCELED", …

// One batch size's executions (Triton's batch_stats entry).
struct BatchStat {
  uint64_t batch_size = 0;
  DurationStat compute_input, compute_infer, compute_output;
};

struct InferenceStatsSnapshot {
  uint64_t last_inference_ms = 0;  // wall-clock ms since the epoch of the last request
  uint64_t inference_count = 0;    // inferences performed (a batch of 8 rows counts 8)
  uint64_t execution_count = 0;    // engine executions (a batch counts 1)
  DurationStat success;            // successful requests, end to end (cache hits included)
  DurationStat fail;               // failed requests, end to end
  DurationStat queue;              // time waiting for an instance
  DurationStat compute_input;      // preparing inputs for the engine
  DurationStat compute_infer;      // the engine run
  DurationStat compute_output;     // collecting outputs from the engine
  DurationStat cache_hit;          // requests answered from the cache; ns = lookup time
  DurationStat cache_miss;         // cache lookups that missed; ns = lookup + insertion time
  uint64_t failures_by_reason[kFailureReasonCount] = {};  // indexed by FailureReason
  int64_t pending = 0;             // requests handed to the scheduler and not yet completed
  uint64_t load_duration_ns = 0;   // how long loading this version took; 0 = not recorded
  std::vector<BatchStat> batch_stats;  // ascending batch size
  HistogramSnapshot request_duration;  // successful requests, end to end
  HistogramSnapshot queue_duration;    // queue wait of successful requests
  HistogramSnapshot compute_duration;  // compute input + infer + output of successful requests
};

// Per-request stage durations, in nanoseconds.
struct RequestTimings {
  uint64_t queue_ns = 0;
  uint64_t compute_input_ns = 0;
  uint64_t compute_infer_ns = 0;
  uint64_t compute_output_ns = 0;
  uint64_t total_ns = 0;
};

class InferenceStats {
 public:
  // A request that succeeded, carrying `batch_size` rows.
  void RecordSuccess(const RequestTimings& t, uint64_t batch_size);
  // A request that failed after reaching the model (validation, engine error, rejection).
  void RecordFailure(uint64_t total_ns, FailureReason reason = FailureReason::kOther);
  // One engine execution, whatever number of requests it served (no batch_stats entry).
  void RecordExecution();
  // One engine execution of `batch_size` rows with its compute timings: counts the execution
  // and feeds batch_stats. Use instead of RecordExecution, not in addition to it.
  void RecordBatch(uint64_t batch_size, uint64_t compute_input_ns, uint64_t compute_infer_ns,
                   uint64_t compute_output_ns) EXCLUDES(batch_mu_);
  // A request answered from the response cache (counts as a success; no inference, no
  // execution, no queue or compute time, as Triton counts it).
  void RecordCacheHit(uint64_t lookup_ns, uint64_t total_ns);
  // A cache lookup that missed; `ns` covers the lookup and, on success, the insertion.
  void RecordCacheMiss(uint64_t ns);
  // Requests queued or running: +1 when handed to the scheduler, -1 when completed.
  void AddPending(int64_t delta);
  void SetLoadDuration(uint64_t ns);

  InferenceStatsSnapshot Snapshot() const EXCLUDES(batch_mu_);

  // The timings of the last RecordSuccess made on the calling thread, then cleared; all zero
  // when none was recorded since the last call. Lets the facade attach a request's own stage
  // timings to its trace and access log without widening the scheduler seam.
  static RequestTimings TakeLastRecordedTimings();

 private:
  struct AtomicDuration {
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> ns{0};
    void Add(uint64_t d) {
      count.fetch_add(1, std::memory_order_relaxed);
      ns.fetch_add(d, std::memory_order_relaxed);
    }
    DurationStat Load() const {
      return {count.load(std::memory_order_relaxed), ns.load(std::memory_order_relaxed)};
    }
  };
  void Touch();

  std::atomic<uint64_t> last_inference_ms_{0};
  std::atomic<uint64_t> inference_count_{0};
  std::atomic<uint64_t> execution_count_{0};
  AtomicDuration success_, fail_, queue_, compute_input_, compute_infer_, compute_output_;
  AtomicDuration cache_hit_, cache_miss_;
  std::atomic<uint64_t> failures_[kFailureReasonCount] = {};
  std::atomic<int64_t> pending_{0};
  std::atomic<uint64_t> load_duration_ns_{0};
  Histogram request_hist_, queue_hist_, compute_hist_;
  mutable Mutex batch_mu_;
  std::map<uint64_t, BatchStat> batches_ GUARDED_BY(batch_mu_);
};

}  // namespace inferd::metrics
