// Histogram: a lock-free latency histogram with fixed buckets (100 µs … 10 s), recorded in
// nanoseconds and exposed in seconds, the Prometheus base unit. Recorded by InferenceStats from
// any thread; snapshots are read by the Prometheus exposition.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>

namespace inferd::metrics {

// Upper bounds of the finite buckets, in seconds (the +Inf bucket is implicit).
inline constexpr std::array<double, 16> kLatencyBucketsSeconds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1.0,   2.5,   5.0,   10.0};

struct HistogramSnapshot {
  // Cumulative counts per finite bucket (count of observations <= bound), as Prometheus wants.
  std::array<uint64_t, kLatencyBucketsSeconds.size()> cumulative{};
  uint64_t count = 0;   // every observation (the +Inf bucket)
  uint64_t sum_ns = 0;  // summed observations, nanoseconds
};

class Histogram {
 public:
  void Observe(uint64_t ns);
  HistogramSnapshot Snapshot() const;

 private:
  // Per-bucket (not cumulative) counts; the last slot is the +Inf overflow bucket.
  std::array<std::atomic<uint64_t>, kLatencyBucketsSeconds.size() + 1> buckets_{};
  std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace inferd::metrics
