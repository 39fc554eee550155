// InferenceStats: per model-version counters behind the statistics extension (Triton's
// ModelStatistics shape): request outcomes, inference and execution counts, and cumulative
// durations of each stage. Lock-free; recorded by schedulers and the facade from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace inferd::metrics {

struct DurationStat {
  uint64_t count = 0;  // events
  uint64_t ns = 0;     // their summed duration in nanoseconds
};

struct InferenceStatsSnapshot {
  uint64_t last_inference_ms = 0;  // wall-clock ms since the epoch of the last request
  uint64_t inference_count = 0;    // inferences performed (a batch of 8 rows counts 8)
  uint64_t execution_count = 0;    // engine executions (a batch counts 1)
  DurationStat success;            // successful requests, end to end
  DurationStat fail;               // failed requests, end to end
  DurationStat queue;              // time waiting for an instance
  DurationStat compute_input;      // preparing inputs for the engine
  DurationStat compute_infer;      // the engine run
  DurationStat compute_output;     // collecting outputs from the engine
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
  void RecordFailure(uint64_t total_ns);
  // One engine execution, whatever number of requests it served.
  void RecordExecution();

  InferenceStatsSnapshot Snapshot() const;

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
};

}  // namespace inferd::metrics
