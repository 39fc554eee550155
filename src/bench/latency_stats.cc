#include "bench/latency_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <nlohmann/json.hpp>

namespace inferd::bench {

uint64_t NearestRankPercentile(std::span<const uint64_t> sorted_us, double p) {
  if (sorted_us.empty()) return 0;
  if (p <= 0) return sorted_us.front();
  // rank = ceil(p/100 * n), 1-based; computed in integers of 1e-6 percent to dodge float fuzz
  // such as 0.95 * 100 = 94.99999.
  const auto n = static_cast<uint64_t>(sorted_us.size());
  const auto p_micro = static_cast<uint64_t>(std::llround(std::min(p, 100.0) * 1e6));
  uint64_t rank = (p_micro * n + 100'000'000 - 1) / 100'000'000;
  rank = std::clamp<uint64_t>(rank, 1, n);
  return sorted_us[rank - 1];
}

LatencySummary SummarizeLatencies(std::vector<uint64_t>& latencies_us) {
  LatencySummary s;
  if (latencies_us.empty()) return s;
  std::sort(latencies_us.begin(), latencies_us.end());
  s.count = latencies_us.size();
  const long double sum =
      std::accumulate(latencies_us.begin(), latencies_us.end(), static_cast<long double>(0));
  s.avg_us = static_cast<double>(sum / static_cast<long double>(s.count));
  s.min_us = latencies_us.front();
  s.max_us = latencies_us.back();
  s.p50_us = NearestRankPercentile(latencies_us, 50);
  s.p90_us = NearestRankPercentile(latencies_us, 90);
  s.p95_us = NearestRankPercentile(latencies_us, 95);
  s.p99_us = NearestRankPercentile(latencies_us, 99);
  return s;
}

bool IsStable(std::span<const double> throughputs, size_t windows, double tolerance) {
  if (windows == 0 || throughputs.size() < windows) return false;
  auto last = throughputs.last(windows);
  const double mean = std::accumulate(last.begin(), last.end(), 0.0) / static_cast<double>(windows);
  if (mean <= 0) return false;
  return std::all_of(last.begin(), last.end(),
                     [&](double t) { return std::abs(t - mean) <= tolerance * mean; });
}

namespace {

using nlohmann::json;

uint64_t U64(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

void AddDuration(const json& stats, const char* key, uint64_t* count, uint64_t* ns) {
  auto it = stats.find(key);
  if (it == stats.end() || !it->is_object()) return;
  if (count != nullptr) *count += U64(*it, "count");
  *ns += U64(*it, "ns");
}

}  // namespace

Result<ServerStatsSnapshot> ParseServerStats(std::string_view text, std::string_view model) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgument("statistics: not a JSON object");
  }
  auto models = doc.find("model_stats");
  if (models == doc.end() || !models->is_array()) {
    return InvalidArgument("statistics: no 'model_stats' array");
  }
  ServerStatsSnapshot out;
  bool found = false;
  for (const json& m : *models) {
    if (!m.is_object() || m.value("name", std::string()) != model) continue;
    found = true;
    out.inference_count += U64(m, "inference_count");
    out.execution_count += U64(m, "execution_count");
    auto stats = m.find("inference_stats");
    if (stats == m.end() || !stats->is_object()) continue;
    AddDuration(*stats, "success", &out.success_count, &out.success_ns);
    uint64_t fail_ns = 0;
    AddDuration(*stats, "fail", &out.fail_count, &fail_ns);
    AddDuration(*stats, "queue", nullptr, &out.queue_ns);
    AddDuration(*stats, "compute_input", nullptr, &out.compute_input_ns);
    AddDuration(*stats, "compute_infer", nullptr, &out.compute_infer_ns);
    AddDuration(*stats, "compute_output", nullptr, &out.compute_output_ns);
  }
  if (!found) return NotFound("statistics: no entry for model '" + std::string(model) + "'");
  return out;
}

ServerBreakdown DiffServerStats(const ServerStatsSnapshot& before,
                                const ServerStatsSnapshot& after) {
  ServerBreakdown d;
  if (after.success_count <= before.success_count || after.success_ns < before.success_ns ||
      after.queue_ns < before.queue_ns || after.compute_input_ns < before.compute_input_ns ||
      after.compute_infer_ns < before.compute_infer_ns ||
      after.compute_output_ns < before.compute_output_ns ||
      after.execution_count < before.execution_count) {
    return d;
  }
  d.requests = after.success_count - before.success_count;
  d.executions = after.execution_count - before.execution_count;
  const double n = static_cast<double>(d.requests);
  auto avg_us = [n](uint64_t a, uint64_t b) { return static_cast<double>(a - b) / n / 1000.0; };
  d.avg_request_us = avg_us(after.success_ns, before.success_ns);
  d.avg_queue_us = avg_us(after.queue_ns, before.queue_ns);
  d.avg_compute_input_us = avg_us(after.compute_input_ns, before.compute_input_ns);
  d.avg_compute_infer_us = avg_us(after.compute_infer_ns, before.compute_infer_ns);
  d.avg_compute_output_us = avg_us(after.compute_output_ns, before.compute_output_ns);
  d.avg_overhead_us = std::max(0.0, d.avg_request_us - d.avg_queue_us - d.avg_compute_input_us -
                                        d.avg_compute_infer_us - d.avg_compute_output_us);
  return d;
}

}  // namespace inferd::bench
