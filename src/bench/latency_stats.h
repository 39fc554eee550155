// Statistics math for `inferd bench`: latency percentiles and summaries, measurement-window
// stability, and the server-side stage breakdown obtained by differencing two snapshots of the
// statistics endpoint. Pure functions over plain values, unit-tested in
// tests/bench/latency_stats_test.cc; the load generator and the report writers call them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace inferd::bench {

// Percentile p (0..100] of `sorted_us` (ascending) by the nearest-rank method: the smallest
// value such that at least p% of the samples are <= it (perf_analyzer and HdrHistogram report
// this way; it never invents a value that was not measured). 0 for an empty input.
uint64_t NearestRankPercentile(std::span<const uint64_t> sorted_us, double p);

struct LatencySummary {
  uint64_t count = 0;
  double avg_us = 0;
  uint64_t min_us = 0;
  uint64_t max_us = 0;
  uint64_t p50_us = 0;
  uint64_t p90_us = 0;
  uint64_t p95_us = 0;
  uint64_t p99_us = 0;
};

// Summarizes latencies (microseconds, any order; the vector is sorted in place).
LatencySummary SummarizeLatencies(std::vector<uint64_t>& latencies_us);

// Whether the last `windows` values of `throughputs` (requests/s per measurement window) all
// lie within ±tolerance (e.g. 0.1 = 10%) of their mean, as perf_analyzer's stability check.
// False while fewer than `windows` values exist or when their mean is 0.
bool IsStable(std::span<const double> throughputs, size_t windows, double tolerance);

// One model version's cumulative counters from GET /v2/models/{m}/stats (Triton's shape).
struct ServerStatsSnapshot {
  uint64_t inference_count = 0;
  uint64_t execution_count = 0;
  uint64_t success_count = 0;
  uint64_t success_ns = 0;
  uint64_t fail_count = 0;
  uint64_t queue_ns = 0;
  uint64_t compute_input_ns = 0;
  uint64_t compute_infer_ns = 0;
  uint64_t compute_output_ns = 0;
};

// Parses a statistics document and sums the versions of `model` (a model with several READY
// versions is benchmarked through its version policy, so all of them may have served).
// INVALID_ARGUMENT for malformed JSON; NOT_FOUND when the model is absent.
Result<ServerStatsSnapshot> ParseServerStats(std::string_view json, std::string_view model);

// Average per-request server-side durations between two snapshots.
struct ServerBreakdown {
  uint64_t requests = 0;        // successful requests counted by the server in the interval
  uint64_t executions = 0;      // engine executions in the interval (< requests when batching)
  double avg_request_us = 0;    // end to end inside the server
  double avg_queue_us = 0;
  double avg_compute_input_us = 0;
  double avg_compute_infer_us = 0;
  double avg_compute_output_us = 0;
  // Time inside the server not attributed to a stage (decode, validation, encode, handoffs).
  double avg_overhead_us = 0;
};

// after − before, divided by the number of successful requests in between. A snapshot that
// went backwards (the model was reloaded) or no request in between gives an all-zero result.
ServerBreakdown DiffServerStats(const ServerStatsSnapshot& before,
                                const ServerStatsSnapshot& after);

}  // namespace inferd::bench
