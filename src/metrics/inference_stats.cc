#include "metrics/inference_stats.h"

#include <chrono>

namespace inferd::metrics {

void InferenceStats::Touch() {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  last_inference_ms_.store(static_cast<uint64_t>(now.count()), std::memory_order_relaxed);
}

void InferenceStats::RecordSuccess(const RequestTimings& t, uint64_t batch_size) {
  Touch();
  inference_count_.fetch_add(batch_size, std::memory_order_relaxed);
  success_.Add(t.total_ns);
  queue_.Add(t.queue_ns);
  compute_input_.Add(t.compute_input_ns);
  compute_infer_.Add(t.compute_infer_ns);
  compute_output_.Add(t.compute_output_ns);
}

void InferenceStats::RecordFailure(uint64_t total_ns) {
  Touch();
  fail_.Add(total_ns);
}

void InferenceStats::RecordExecution() {
  execution_count_.fetch_add(1, std::memory_order_relaxed);
}

InferenceStatsSnapshot InferenceStats::Snapshot() const {
  InferenceStatsSnapshot s;
  s.last_inference_ms = last_inference_ms_.load(std::memory_order_relaxed);
  s.inference_count = inference_count_.load(std::memory_order_relaxed);
  s.execution_count = execution_count_.load(std::memory_order_relaxed);
  s.success = success_.Load();
  s.fail = fail_.Load();
  s.queue = queue_.Load();
  s.compute_input = compute_input_.Load();
  s.compute_infer = compute_infer_.Load();
  s.compute_output = compute_output_.Load();
  return s;
}

}  // namespace inferd::metrics
