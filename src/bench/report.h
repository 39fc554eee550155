// Output of `inferd bench`: the levels it measured as a text table (for people), CSV and JSON
// (for scripts; bench/ reads the JSON), and an SVG plot of latency against throughput. Pure
// formatting; the JSON field names are a contract with bench/report_ratios.py and the tests.
#pragma once

#include <string>
#include <vector>

#include "bench/load_generator.h"

namespace inferd::bench {

struct RunInfo {
  std::string url;
  std::string model;
  std::string protocol;    // "http" or "grpc"
  std::string encoding;    // "json" or "binary" (HTTP); "raw" for gRPC
  std::string input_data;  // zero, random or a file name
  int batch_size = 1;
  std::string mode;        // "concurrency" or "request-rate"
  std::string arrival;     // "constant" or "poisson" (request-rate mode)
};

std::string FormatTable(const RunInfo& info, const std::vector<LevelResult>& levels);
std::string FormatCsv(const std::vector<LevelResult>& levels);
std::string FormatJson(const RunInfo& info, const std::vector<LevelResult>& levels);
// p50 and p99 latency (ms, y) against throughput (requests/s, x), one point per level.
std::string FormatSvg(const RunInfo& info, const std::vector<LevelResult>& levels);

}  // namespace inferd::bench
