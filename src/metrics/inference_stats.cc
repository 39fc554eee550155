#include "metrics/inference_stats.h"

#include <chrono>

namespace inferd::metrics {
namespace {

thread_local RequestTimings last_recorded_timings;

}  // namespace

const char* FailureReasonName(FailureReason reason) {
  switch (reason) {
    case FailureReason::kRejected: return "REJECTED";
    case FailureReason::kCanceled: return "CANCELED";
    case FailureReason::kBackend: return "BACKEND";
    case FailureReason::kOther: return "OTHER";
  }
  return "OTHER";
}

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
  request_hist_.Observe(t.total_ns);
  queue_hist_.Observe(t.queue_ns);
  compute_hist_.Observe(t.compute_input_ns + t.compute_infer_ns + t.compute_output_ns);
  last_recorded_timings = t;
}

void InferenceStats::RecordFailure(uint64_t total_ns, FailureReason reason) {
  Touch();
  fail_.Add(total_ns);
  failures_[static_cast<int>(reason)].fetch_add(1, std::memory_order_relaxed);
}

void InferenceStats::RecordExecution() {
  execution_count_.fetch_add(1, std::memory_order_relaxed);
}

void InferenceStats::RecordBatch(uint64_t batch_size, uint64_t compute_input_ns,
                                 uint64_t compute_infer_ns, uint64_t compute_output_ns) {
  execution_count_.fetch_add(1, std::memory_order_relaxed);
  MutexLock lock(batch_mu_);
  BatchStat& b = batches_[batch_size];
  b.batch_size = batch_size;
  b.compute_input.count++;
  b.compute_input.ns += compute_input_ns;
  b.compute_infer.count++;
  b.compute_infer.ns += compute_infer_ns;
  b.compute_output.count++;
  b.compute_output.ns += compute_output_ns;
}

void InferenceStats::RecordCacheHit(uint64_t lookup_ns, uint64_t total_ns) {
  Touch();
  cache_hit_.Add(lookup_ns);
  success_.Add(total_ns);
  request_hist_.Observe(total_ns);
}

void InferenceStats::RecordCacheMiss(uint64_t ns) { cache_miss_.Add(ns); }

void InferenceStats::AddPending(int64_t delta) {
  pending_.fetch_add(delta, std::memory_order_relaxed);
}

void InferenceStats::SetLoadDuration(uint64_t ns) {
  load_duration_ns_.store(ns, std::memory_order_relaxed);
}

RequestTimings InferenceStats::TakeLastRecordedTimings() {
  RequestTimings t = last_recorded_timings;
  last_recorded_timings = {};
  return t;
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
  s.cache_hit = cache_hit_.Load();
  s.cache_miss = cache_miss_.Load();
  for (int i = 0; i < kFailureReasonCount; ++i) {
    s.failures_by_reason[i] = failures_[i].load(std::memory_order_relaxed);
  }
  s.pending = pending_.load(std::memory_order_relaxed);
  s.load_duration_ns = load_duration_ns_.load(std::memory_order_relaxed);
  s.request_duration = request_hist_.Snapshot();
  s.queue_duration = queue_hist_.Snapshot();
  s.compute_duration = compute_hist_.Snapshot();
  MutexLock lock(batch_mu_);
  s.batch_stats.reserve(batches_.size());
  for (const auto& [size, b] : batches_) s.batch_stats.push_back(b);
  return s;
}

}  // namespace inferd::metrics
