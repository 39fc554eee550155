#include "bench/report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace inferd::bench {
namespace {

std::string Level(const LevelResult& l) {
  return l.request_rate > 0 ? fmt::format("{:g}/s", l.request_rate)
                            : fmt::format("{}", l.concurrency);
}

}  // namespace

std::string FormatTable(const RunInfo& info, const std::vector<LevelResult>& levels) {
  std::string out = fmt::format("{} {} {} {} batch {} ({})\n", info.protocol, info.encoding,
                                info.model, info.url, info.batch_size, info.mode);
  out += fmt::format("{:>9} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>8} {:>8} {:>8} {:>8} "
                     "{:>6}\n",
                     info.mode == "concurrency" ? "conc" : "rate", "req/s", "avg ms", "p50 ms",
                     "p90 ms", "p95 ms", "p99 ms", "errors", "queue us", "in us", "infer us",
                     "out us", "stable");
  for (const auto& l : levels) {
    auto ms = [](double us) { return us / 1000.0; };
    std::string server = "       -        -        -        -";
    if (l.server) {
      server = fmt::format("{:>8.1f} {:>8.1f} {:>8.1f} {:>8.1f}", l.server->avg_queue_us,
                           l.server->avg_compute_input_us, l.server->avg_compute_infer_us,
                           l.server->avg_compute_output_us);
    }
    out += fmt::format("{:>9} {:>10.1f} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>7} {} "
                       "{:>6}\n",
                       Level(l), l.throughput_rps, ms(l.latency.avg_us),
                       ms(static_cast<double>(l.latency.p50_us)),
                       ms(static_cast<double>(l.latency.p90_us)),
                       ms(static_cast<double>(l.latency.p95_us)),
                       ms(static_cast<double>(l.latency.p99_us)), l.errors, server,
                       l.stable ? "yes" : "no");
  }
  return out;
}

std::string FormatCsv(const std::vector<LevelResult>& levels) {
  std::string out =
      "concurrency,request_rate,throughput_rps,ok,errors,avg_us,p50_us,p90_us,p95_us,p99_us,"
      "min_us,max_us,server_queue_us,server_compute_input_us,server_compute_infer_us,"
      "server_compute_output_us,server_overhead_us,stable\n";
  for (const auto& l : levels) {
    out += fmt::format("{},{:g},{:.2f},{},{},{:.1f},{},{},{},{},{},{},", l.concurrency,
                       l.request_rate, l.throughput_rps, l.ok, l.errors, l.latency.avg_us,
                       l.latency.p50_us, l.latency.p90_us, l.latency.p95_us, l.latency.p99_us,
                       l.latency.min_us, l.latency.max_us);
    if (l.server) {
      out += fmt::format("{:.1f},{:.1f},{:.1f},{:.1f},{:.1f},", l.server->avg_queue_us,
                         l.server->avg_compute_input_us, l.server->avg_compute_infer_us,
                         l.server->avg_compute_output_us, l.server->avg_overhead_us);
    } else {
      out += ",,,,,";
    }
    out += l.stable ? "true\n" : "false\n";
  }
  return out;
}

std::string FormatJson(const RunInfo& info, const std::vector<LevelResult>& levels) {
  using nlohmann::json;
  json arr = json::array();
  for (const auto& l : levels) {
    json level = {{"concurrency", l.concurrency},
                  {"request_rate", l.request_rate},
                  {"throughput_rps", l.throughput_rps},
                  {"ok", l.ok},
                  {"errors", l.errors},
                  {"measured_s", l.measured_s},
                  {"windows", l.windows},
                  {"stable", l.stable},
                  {"latency_us",
                   {{"count", l.latency.count},
                    {"avg", l.latency.avg_us},
                    {"min", l.latency.min_us},
                    {"max", l.latency.max_us},
                    {"p50", l.latency.p50_us},
                    {"p90", l.latency.p90_us},
                    {"p95", l.latency.p95_us},
                    {"p99", l.latency.p99_us}}}};
    if (l.server) {
      level["server_us"] = {{"requests", l.server->requests},
                            {"executions", l.server->executions},
                            {"request", l.server->avg_request_us},
                            {"queue", l.server->avg_queue_us},
                            {"compute_input", l.server->avg_compute_input_us},
                            {"compute_infer", l.server->avg_compute_infer_us},
                            {"compute_output", l.server->avg_compute_output_us},
                            {"overhead", l.server->avg_overhead_us}};
    } else {
      level["server_us"] = nullptr;
    }
    arr.push_back(std::move(level));
  }
  json doc = {{"url", info.url},          {"model", info.model},
              {"protocol", info.protocol}, {"encoding", info.encoding},
              {"input_data", info.input_data}, {"batch_size", info.batch_size},
              {"mode", info.mode},        {"arrival", info.arrival},
              {"levels", arr}};
  return doc.dump(2) + "\n";
}

std::string FormatSvg(const RunInfo& info, const std::vector<LevelResult>& levels) {
  constexpr double kW = 640, kH = 400, kLeft = 70, kRight = 20, kTop = 40, kBottom = 50;
  double max_x = 1, max_y = 0.001;
  for (const auto& l : levels) {
    max_x = std::max(max_x, l.throughput_rps);
    max_y = std::max(max_y, static_cast<double>(l.latency.p99_us) / 1000.0);
  }
  max_x *= 1.1;
  max_y *= 1.1;
  auto px = [&](double x) { return kLeft + x / max_x * (kW - kLeft - kRight); };
  auto py = [&](double y) { return kH - kBottom - y / max_y * (kH - kTop - kBottom); };
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"{0}\" height=\"{1}\" "
      "fill=\"white\"/>\n",
      kW, kH);
  std::string title = fmt::format("{} {} {} — latency vs throughput", info.model, info.protocol,
                                  info.encoding);
  // Titles carry user input (the model name): escape what XML needs escaped.
  std::string escaped;
  for (char c : title) {
    switch (c) {
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '&': escaped += "&amp;"; break;
      default: escaped += c;
    }
  }
  out += fmt::format("<text x=\"{}\" y=\"20\">{}</text>\n", kLeft, escaped);
  out += fmt::format(
      "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"black\"/>\n"
      "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{3}\" stroke=\"black\"/>\n",
      kLeft, kH - kBottom, kW - kRight, kTop);
  for (int i = 0; i <= 4; ++i) {
    const double xv = max_x * i / 4, yv = max_y * i / 4;
    out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:.0f}</text>\n",
                       px(xv), kH - kBottom + 16, xv);
    out += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:.2f}</text>\n",
                       kLeft - 6, py(yv) + 4, yv);
  }
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">throughput (requests/s)"
                     "</text>\n",
                     (kLeft + kW - kRight) / 2, kH - 12);
  out += fmt::format("<text x=\"16\" y=\"{}\" transform=\"rotate(-90 16 {})\" "
                     "text-anchor=\"middle\">latency (ms)</text>\n",
                     (kTop + kH - kBottom) / 2, (kTop + kH - kBottom) / 2);
  struct Series {
    const char* name;
    const char* color;
    uint64_t LatencySummary::*field;
  };
  const Series series[] = {{"p50", "#1f77b4", &LatencySummary::p50_us},
                           {"p99", "#d62728", &LatencySummary::p99_us}};
  int legend = 0;
  for (const Series& s : series) {
    std::string points;
    for (const auto& l : levels) {
      const double x = px(l.throughput_rps);
      const double y = py(static_cast<double>(l.latency.*s.field) / 1000.0);
      points += fmt::format("{:.1f},{:.1f} ", x, y);
      out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", x, y,
                         s.color);
    }
    out += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\"/>\n", points,
                       s.color);
    out += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>\n", kW - 60,
                       kTop + 14 * legend++, s.color, s.name);
  }
  out += "</svg>\n";
  return out;
}

}  // namespace inferd::bench
