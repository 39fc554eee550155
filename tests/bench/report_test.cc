#include "bench/report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace inferd::bench {
namespace {

std::vector<LevelResult> TwoLevels() {
  LevelResult a;
  a.concurrency = 1;
  a.throughput_rps = 1000;
  a.ok = 3000;
  a.measured_s = 3;
  a.stable = true;
  a.latency = {.count = 3000, .avg_us = 990, .min_us = 500, .max_us = 4000, .p50_us = 950,
               .p90_us = 1200, .p95_us = 1300, .p99_us = 2000};
  a.server = ServerBreakdown{.requests = 3000, .executions = 3000, .avg_request_us = 800,
                             .avg_queue_us = 10, .avg_compute_input_us = 1,
                             .avg_compute_infer_us = 700, .avg_compute_output_us = 2,
                             .avg_overhead_us = 87};
  LevelResult b = a;
  b.concurrency = 8;
  b.throughput_rps = 4000;
  b.errors = 2;
  b.stable = false;
  b.server.reset();
  return {a, b};
}

RunInfo Info() {
  return {.url = "http://127.0.0.1:8000", .model = "m<1>", .protocol = "http",
          .encoding = "json", .input_data = "random", .batch_size = 1, .mode = "concurrency",
          .arrival = ""};
}

TEST(FormatJson, CarriesEveryLevelWithLatenciesAndTheServerBreakdown) {
  auto doc = nlohmann::json::parse(FormatJson(Info(), TwoLevels()));
  EXPECT_EQ(doc["model"], "m<1>");
  ASSERT_EQ(doc["levels"].size(), 2u);
  const auto& l0 = doc["levels"][0];
  EXPECT_EQ(l0["concurrency"], 1);
  EXPECT_EQ(l0["throughput_rps"], 1000.0);
  EXPECT_EQ(l0["latency_us"]["p99"], 2000);
  EXPECT_EQ(l0["server_us"]["compute_infer"], 700.0);
  EXPECT_TRUE(doc["levels"][1]["server_us"].is_null());
  EXPECT_EQ(doc["levels"][1]["errors"], 2);
  EXPECT_EQ(doc["levels"][1]["stable"], false);
}

TEST(FormatCsv, WritesAHeaderAndOneRowPerLevelWithEmptyServerCellsWhenUnknown) {
  std::string csv = FormatCsv(TwoLevels());
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t pos; (pos = csv.find('\n', start)) != std::string::npos; start = pos + 1) {
    lines.push_back(csv.substr(start, pos - start));
  }
  ASSERT_EQ(lines.size(), 3u);
  auto columns = [](const std::string& s) { return std::count(s.begin(), s.end(), ',') + 1; };
  EXPECT_EQ(columns(lines[1]), columns(lines[0]));
  EXPECT_EQ(columns(lines[2]), columns(lines[0]));
  EXPECT_EQ(lines[1].rfind("1,0,1000.00,3000,0,990.0,950,1200,1300,2000,500,4000,10.0,", 0), 0u)
      << lines[1];
  EXPECT_NE(lines[2].find(",,,,,false"), std::string::npos) << lines[2];
}

TEST(FormatTable, ShowsOneLinePerLevelInMilliseconds) {
  std::string table = FormatTable(Info(), TwoLevels());
  EXPECT_NE(table.find("1000.0"), std::string::npos);
  EXPECT_NE(table.find("2.000"), std::string::npos);  // p99 2000 us
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 4);
}

TEST(FormatSvg, PlotsTwoPointsPerLevelAndEscapesTheTitle) {
  std::string svg = FormatSvg(Info(), TwoLevels());
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  size_t circles = 0;
  for (size_t pos = 0; (pos = svg.find("<circle", pos)) != std::string::npos; ++pos) ++circles;
  EXPECT_EQ(circles, 4u);
  EXPECT_NE(svg.find("m&lt;1&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("m<1>"), std::string::npos);
}

}  // namespace
}  // namespace inferd::bench
