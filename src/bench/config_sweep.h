// `inferd tune` without the network: the grid of serving configurations it sweeps (instance
// count × engine threads × max batch × queue delay), how one point rewrites a model's config
// (Triton's JSON form, as GET /v2/models/{m}/config returns it and the load API takes it), the
// objective that picks the best point, the throughput/p99 Pareto frontier, and the outputs — a
// table and an SVG of the frontier. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace inferd::bench {

struct SweepPoint {
  int instances = 1;
  int threads = 1;             // the ONNX Runtime backend's intra_op_thread_count
  int max_batch = 0;           // max_batch_size; 0 = no batching
  int64_t queue_delay_us = 0;  // dynamic_batching.max_queue_delay_microseconds
};

// Every combination, in order (instances outermost).
std::vector<SweepPoint> SweepGrid(const std::vector<int>& instances,
                                  const std::vector<int>& threads,
                                  const std::vector<int>& max_batch,
                                  const std::vector<int64_t>& queue_delay_us);

// `config_json` with the point's instance_group (KIND_CPU), intra_op_thread_count parameter,
// max_batch_size and dynamic batching (removed when max_batch is 0). INVALID_ARGUMENT when
// the text is not a JSON object.
Result<std::string> ApplySweepPoint(const std::string& config_json, const SweepPoint& point);

struct SweepResult {
  SweepPoint point;
  bool ok = false;  // false: the config did not load or the level failed
  std::string error;
  double throughput_rps = 0;
  double p50_ms = 0, p99_ms = 0;
  uint64_t errors = 0;  // failed requests during the measurement
  bool stable = false;  // the bench engine's measurement windows agreed (LevelOptions)
};

struct Objective {
  enum class Kind { kMaxThroughput, kMinLatency };
  Kind kind = Kind::kMaxThroughput;
  double p99_budget_ms = 0;  // kMaxThroughput: 0 = no budget
  double rate_rps = 0;       // kMinLatency: the offered rate (a point must sustain 95% of it)
};

// The index of the best successful point under the objective; nullopt when none qualifies.
std::optional<size_t> ChooseBest(const std::vector<SweepResult>& results,
                                 const Objective& objective);

// Indices of the points no other point beats on both throughput (higher) and p99 (lower),
// ordered by throughput.
std::vector<size_t> ParetoFrontier(const std::vector<SweepResult>& results);

std::string FormatSweepTable(const std::vector<SweepResult>& results, std::optional<size_t> best);

// p99 (ms, y) against throughput (requests/s, x): every point, the frontier as a line, the
// best point ringed.
std::string FormatFrontierSvg(const std::string& model, const std::vector<SweepResult>& results,
                              std::optional<size_t> best);

}  // namespace inferd::bench
