#include "metrics/histogram.h"

namespace inferd::metrics {
namespace {

// Bucket bounds in nanoseconds, so Observe compares integers.
constexpr std::array<uint64_t, kLatencyBucketsSeconds.size()> BoundsNs() {
  std::array<uint64_t, kLatencyBucketsSeconds.size()> out{};
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<uint64_t>(kLatencyBucketsSeconds[i] * 1e9 + 0.5);
  }
  return out;
}
constexpr auto kBoundsNs = BoundsNs();

}  // namespace

void Histogram::Observe(uint64_t ns) {
  size_t i = 0;
  while (i < kBoundsNs.size() && ns > kBoundsNs[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

HistogramSnapshot Histogram::Snapshot() const {
  HistogramSnapshot s;
  uint64_t running = 0;
  for (size_t i = 0; i < kBoundsNs.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running + buckets_.back().load(std::memory_order_relaxed);
  s.sum_ns = sum_ns_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace inferd::metrics
