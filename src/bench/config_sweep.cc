#include "bench/config_sweep.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace inferd::bench {

std::vector<SweepPoint> SweepGrid(const std::vector<int>& instances,
                                  const std::vector<int>& threads,
                                  const std::vector<int>& max_batch,
                                  const std::vector<int64_t>& queue_delay_us) {
  std::vector<SweepPoint> grid;
  for (int i : instances) {
    for (int t : threads) {
      for (int b : max_batch) {
        for (int64_t d : queue_delay_us) {
          // Without batching the queue delay means nothing: one point, not one per delay.
          if (b == 0 && d != queue_delay_us.front()) continue;
          grid.push_back({i, t, b, b == 0 ? 0 : d});
        }
      }
    }
  }
  return grid;
}

Result<std::string> ApplySweepPoint(const std::string& config_json, const SweepPoint& point) {
  nlohmann::json config = nlohmann::json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) return InvalidArgument("the model's config is not a JSON object");
  config["instance_group"] =
      nlohmann::json::array({{{"count", point.instances}, {"kind", "KIND_CPU"}}});
  if (!config.contains("parameters") || !config["parameters"].is_object()) {
    config["parameters"] = nlohmann::json::object();
  }
  config["parameters"]["intra_op_thread_count"] = {{"string_value", std::to_string(point.threads)}};
  // Tensor dims exclude the batch dimension when batching is on: switching batching off puts
  // it back as a variable (-1) first dimension, and switching it on takes that one away.
  const int64_t was = config.value("max_batch_size", int64_t{0});
  if ((was > 0) != (point.max_batch > 0)) {
    for (const char* key : {"input", "output"}) {
      if (!config.contains(key) || !config[key].is_array()) continue;
      for (auto& tensor : config[key]) {
        if (!tensor.contains("dims") || !tensor["dims"].is_array()) continue;
        auto& dims = tensor["dims"];
        if (point.max_batch == 0) {
          dims.insert(dims.begin(), -1);
        } else if (!dims.empty() && (dims[0] == -1 || dims[0] == "-1")) {
          dims.erase(dims.begin());
        } else {
          return InvalidArgument(
              fmt::format("max batch {}: '{}' has no variable first dimension to batch along",
                          point.max_batch, tensor.value("name", std::string())));
        }
      }
    }
  }
  config["max_batch_size"] = point.max_batch;
  if (point.max_batch > 0) {
    config["dynamic_batching"] = {{"max_queue_delay_microseconds", point.queue_delay_us}};
  } else {
    config.erase("dynamic_batching");
  }
  return config.dump();
}

std::optional<size_t> ChooseBest(const std::vector<SweepResult>& results,
                                 const Objective& objective) {
  std::optional<size_t> best;
  for (size_t i = 0; i < results.size(); ++i) {
    const SweepResult& r = results[i];
    if (!r.ok || r.errors > 0) continue;
    if (objective.kind == Objective::Kind::kMaxThroughput) {
      if (objective.p99_budget_ms > 0 && r.p99_ms > objective.p99_budget_ms) continue;
      if (!best || r.throughput_rps > results[*best].throughput_rps) best = i;
    } else {
      if (r.throughput_rps < 0.95 * objective.rate_rps) continue;
      if (!best || r.p99_ms < results[*best].p99_ms) best = i;
    }
  }
  return best;
}

std::vector<size_t> ParetoFrontier(const std::vector<SweepResult>& results) {
  std::vector<size_t> frontier;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok) continue;
    bool dominated = false;
    for (size_t j = 0; j < results.size() && !dominated; ++j) {
      if (j == i || !results[j].ok) continue;
      const auto& a = results[i];
      const auto& b = results[j];
      dominated = b.throughput_rps >= a.throughput_rps && b.p99_ms <= a.p99_ms &&
                  (b.throughput_rps > a.throughput_rps || b.p99_ms < a.p99_ms);
    }
    if (!dominated) frontier.push_back(i);
  }
  std::sort(frontier.begin(), frontier.end(), [&](size_t a, size_t b) {
    return results[a].throughput_rps < results[b].throughput_rps;
  });
  return frontier;
}

std::string FormatSweepTable(const std::vector<SweepResult>& results, std::optional<size_t> best) {
  std::string text = fmt::format("{:>9} {:>7} {:>9} {:>10} {:>12} {:>9} {:>9} {:>6} {:>6}\n",
                                 "instances", "threads", "max batch", "delay (us)", "throughput/s",
                                 "p50 (ms)", "p99 (ms)", "errors", "stable");
  for (size_t i = 0; i < results.size(); ++i) {
    const SweepResult& r = results[i];
    const SweepPoint& p = r.point;
    if (!r.ok) {
      text += fmt::format("{:>9} {:>7} {:>9} {:>10}  failed: {}\n", p.instances, p.threads,
                          p.max_batch, p.queue_delay_us, r.error);
      continue;
    }
    text += fmt::format("{:>9} {:>7} {:>9} {:>10} {:>12.1f} {:>9.2f} {:>9.2f} {:>6} {:>6}  {}\n",
                        p.instances, p.threads, p.max_batch, p.queue_delay_us, r.throughput_rps,
                        r.p50_ms, r.p99_ms, r.errors, r.stable ? "yes" : "no",
                        best == i ? "<- best" : "");
  }
  return text;
}

std::string FormatFrontierSvg(const std::string& model, const std::vector<SweepResult>& results,
                              std::optional<size_t> best) {
  constexpr double kW = 640, kH = 400, kLeft = 60, kRight = 20, kTop = 30, kBottom = 50;
  double max_x = 1, max_y = 1;
  for (const auto& r : results) {
    if (!r.ok) continue;
    max_x = std::max(max_x, r.throughput_rps * 1.1);
    max_y = std::max(max_y, r.p99_ms * 1.1);
  }
  auto x = [&](double v) { return kLeft + v / max_x * (kW - kLeft - kRight); };
  auto y = [&](double v) { return kH - kBottom - v / max_y * (kH - kTop - kBottom); };
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{}\" y=\"18\">inferd tune {}: p99 latency against throughput</text>\n"
      "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n"
      "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n"
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">throughput (requests/s), max {:.0f}</text>\n"
      "<text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" text-anchor=\"middle\">"
      "p99 (ms), max {:.1f}</text>\n",
      kW, kH, kLeft, model, kLeft, kH - kBottom, kW - kRight, kH - kBottom, kLeft, kTop, kLeft,
      kH - kBottom, (kW + kLeft) / 2, kH - 15, max_x, kH / 2, kH / 2, max_y);
  std::string line;
  for (size_t i : ParetoFrontier(results)) {
    line += fmt::format("{:.1f},{:.1f} ", x(results[i].throughput_rps), y(results[i].p99_ms));
  }
  if (!line.empty()) {
    svg += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"#1f77b4\"/>\n", line);
  }
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (!r.ok) continue;
    const auto& p = r.point;
    svg += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"#1f77b4\"><title>instances {} "
        "threads {} max batch {} delay {} us: {:.1f}/s, p99 {:.2f} ms</title></circle>\n",
        x(r.throughput_rps), y(r.p99_ms), p.instances, p.threads, p.max_batch, p.queue_delay_us,
        r.throughput_rps, r.p99_ms);
    if (best == i) {
      svg += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"8\" fill=\"none\" stroke=\"#d62728\"/>\n",
          x(r.throughput_rps), y(r.p99_ms));
    }
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace inferd::bench
