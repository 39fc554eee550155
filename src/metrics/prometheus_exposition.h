// RenderPrometheus: the whole /metrics document. Per model version it writes Triton's metric
// names and labels (nv_inference_*, nv_cache_*_per_model, nv_model_load_duration_secs) so
// existing Triton dashboards work, plus inferd's latency histograms; then the global response
// cache, host CPU/memory (nv_cpu_*) and inferd's process and connection metrics.
// Pure: callers (server::InferenceServer) gather the snapshots. docs/observability.md lists
// every metric.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "metrics/inference_stats.h"
#include "metrics/process_metrics.h"

namespace inferd::metrics {

struct ModelSample {
  std::string model;
  int64_t version = 0;
  InferenceStatsSnapshot stats;
};

// The global response cache (Triton's nv_cache_* names).
struct CacheSnapshot {
  uint64_t entries = 0;
  uint64_t bytes_used = 0;
  uint64_t capacity_bytes = 0;
  uint64_t lookups = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  uint64_t insertions = 0;
  uint64_t lookup_ns = 0;     // summed lookup time, hits and misses
  uint64_t insertion_ns = 0;  // summed insertion time
};

struct ConnectionSample {
  std::string frontend;  // "http", "grpc"
  int64_t open = 0;
  uint64_t total = 0;
};

struct Exposition {
  std::vector<ModelSample> models;
  std::optional<CacheSnapshot> cache;  // absent when the cache is off
  ProcessSnapshot process;
  std::vector<ConnectionSample> connections;
  uint32_t cpu_budget_threads = 0;  // --cpu-threads; 0 = not reported
};

std::string RenderPrometheus(const Exposition& e);

}  // namespace inferd::metrics
