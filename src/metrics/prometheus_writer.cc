#include "metrics/prometheus_writer.h"

#include <cmath>

#include <fmt/format.h>

namespace inferd::metrics {
namespace {

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

}  // namespace

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

void PrometheusWriter::Family(std::string_view name, std::string_view help,
                              std::string_view type) {
  fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void PrometheusWriter::Name(std::string_view name, const Labels& labels,
                            std::string_view extra_key, std::string_view extra_value) {
  out_ += name;
  if (labels.empty() && extra_key.empty()) return;
  out_.push_back('{');
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out_.push_back(',');
    first = false;
    fmt::format_to(std::back_inserter(out_), "{}=\"{}\"", k, EscapeLabelValue(v));
  }
  if (!extra_key.empty()) {
    if (!first) out_.push_back(',');
    fmt::format_to(std::back_inserter(out_), "{}=\"{}\"", extra_key, extra_value);
  }
  out_.push_back('}');
}

void PrometheusWriter::Sample(std::string_view name, const Labels& labels, uint64_t value) {
  Name(name, labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", value);
}

void PrometheusWriter::Sample(std::string_view name, const Labels& labels, int64_t value) {
  Name(name, labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", value);
}

void PrometheusWriter::Sample(std::string_view name, const Labels& labels, double value) {
  Name(name, labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", FormatDouble(value));
}

void PrometheusWriter::Histogram(std::string_view name, const Labels& labels,
                                 const HistogramSnapshot& h) {
  const std::string bucket = fmt::format("{}_bucket", name);
  for (size_t i = 0; i < kLatencyBucketsSeconds.size(); ++i) {
    Name(bucket, labels, "le", FormatDouble(kLatencyBucketsSeconds[i]));
    fmt::format_to(std::back_inserter(out_), " {}\n", h.cumulative[i]);
  }
  Name(bucket, labels, "le", "+Inf");
  fmt::format_to(std::back_inserter(out_), " {}\n", h.count);
  Name(fmt::format("{}_sum", name), labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", FormatDouble(static_cast<double>(h.sum_ns) / 1e9));
  Name(fmt::format("{}_count", name), labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", h.count);
}

}  // namespace inferd::metrics
