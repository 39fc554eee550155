#include "bench/config_sweep.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace inferd::bench {
namespace {

TEST(SweepGrid, CrossesTheListsAndDropsDelaysWithoutBatching) {
  auto grid = SweepGrid({1, 2}, {1}, {0, 8}, {0, 500});
  // Per instance count: batch 0 once, batch 8 with each delay.
  ASSERT_EQ(grid.size(), 6u);
  EXPECT_EQ(grid[0].max_batch, 0);
  EXPECT_EQ(grid[1].max_batch, 8);
  EXPECT_EQ(grid[2].queue_delay_us, 500);
  EXPECT_EQ(grid[3].instances, 2);
}

TEST(ApplySweepPoint, SetsInstancesThreadsBatchAndDelay) {
  auto json = ApplySweepPoint(
      R"({"name":"m","max_batch_size":4,"parameters":{"routing":{"string_value":"latest"}}})",
      {.instances = 3, .threads = 2, .max_batch = 16, .queue_delay_us = 250});
  ASSERT_TRUE(json.ok());
  auto c = nlohmann::json::parse(*json);
  EXPECT_EQ(c["instance_group"][0]["count"], 3);
  EXPECT_EQ(c["instance_group"][0]["kind"], "KIND_CPU");
  EXPECT_EQ(c["parameters"]["intra_op_thread_count"]["string_value"], "2");
  EXPECT_EQ(c["parameters"]["routing"]["string_value"], "latest");  // kept
  EXPECT_EQ(c["max_batch_size"], 16);
  EXPECT_EQ(c["dynamic_batching"]["max_queue_delay_microseconds"], 250);
  auto unbatched = nlohmann::json::parse(
      ApplySweepPoint(*json, {.instances = 1, .threads = 1, .max_batch = 0}).value());
  EXPECT_FALSE(unbatched.contains("dynamic_batching"));
  EXPECT_FALSE(ApplySweepPoint("[1]", {}).ok());
}

TEST(ApplySweepPoint, MovesTheBatchDimensionWhenBatchingSwitches) {
  const std::string batched =
      R"({"max_batch_size":8,"input":[{"name":"x","dims":["16"]}],"output":[{"name":"y","dims":[5]}]})";
  auto off = nlohmann::json::parse(ApplySweepPoint(batched, {.max_batch = 0}).value());
  EXPECT_EQ(off["input"][0]["dims"], nlohmann::json::parse(R"([-1, "16"])"));
  EXPECT_EQ(off["output"][0]["dims"], nlohmann::json::parse("[-1, 5]"));
  auto on = nlohmann::json::parse(ApplySweepPoint(off.dump(), {.max_batch = 4}).value());
  EXPECT_EQ(on["input"][0]["dims"], nlohmann::json::parse(R"(["16"])"));
  EXPECT_FALSE(
      ApplySweepPoint(R"({"max_batch_size":0,"input":[{"name":"x","dims":[3]}]})", {.max_batch = 4})
          .ok());
}

SweepResult Measured(double rps, double p99, bool ok = true) {
  SweepResult r;
  r.ok = ok;
  r.throughput_rps = rps;
  r.p99_ms = p99;
  return r;
}

TEST(ChooseBest, MaxThroughputWithinTheP99Budget) {
  std::vector<SweepResult> rs{Measured(100, 2), Measured(300, 9), Measured(200, 4),
                              Measured(900, 1, false)};
  Objective o;
  EXPECT_EQ(ChooseBest(rs, o), 1u);
  o.p99_budget_ms = 5;
  EXPECT_EQ(ChooseBest(rs, o), 2u);
  o.p99_budget_ms = 1;
  EXPECT_FALSE(ChooseBest(rs, o).has_value());
}

TEST(ChooseBest, MinP99AmongPointsThatSustainTheRate) {
  std::vector<SweepResult> rs{Measured(150, 1), Measured(199, 3), Measured(200, 2)};
  Objective o{.kind = Objective::Kind::kMinLatency, .p99_budget_ms = 0, .rate_rps = 200};
  EXPECT_EQ(ChooseBest(rs, o), 2u);  // 150/s does not sustain 200/s
}

TEST(ParetoFrontier, KeepsOnlyUndominatedPointsByThroughput) {
  std::vector<SweepResult> rs{Measured(100, 2), Measured(300, 9), Measured(200, 4),
                              Measured(150, 5)};
  EXPECT_EQ(ParetoFrontier(rs), (std::vector<size_t>{0, 2, 1}));
  const std::string svg = FormatFrontierSvg("m", rs, 2);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find("stroke=\"#d62728\""), std::string::npos);
  EXPECT_NE(FormatSweepTable(rs, 2).find("<- best"), std::string::npos);
}

}  // namespace
}  // namespace inferd::bench
