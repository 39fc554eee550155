// PrometheusWriter: builds a document in the Prometheus text exposition format (version
// 0.0.4): one `# HELP` / `# TYPE` header per metric family, then its samples, with label values
// escaped. Used by RenderPrometheus; not thread-safe (one writer per scrape).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/histogram.h"

namespace inferd::metrics {

using Labels = std::vector<std::pair<std::string_view, std::string>>;

class PrometheusWriter {
 public:
  // Starts a family; `type` is "counter", "gauge" or "histogram".
  void Family(std::string_view name, std::string_view help, std::string_view type);
  void Sample(std::string_view name, const Labels& labels, uint64_t value);
  void Sample(std::string_view name, const Labels& labels, int64_t value);
  void Sample(std::string_view name, const Labels& labels, double value);
  // `<name>_bucket{…,le="…"}`, `<name>_sum` (seconds) and `<name>_count`.
  void Histogram(std::string_view name, const Labels& labels, const HistogramSnapshot& h);

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Name(std::string_view name, const Labels& labels, std::string_view extra_key = {},
            std::string_view extra_value = {});
  std::string out_;
};

// A label value with `\`, `"` and newlines escaped as the format requires.
std::string EscapeLabelValue(std::string_view v);

}  // namespace inferd::metrics
