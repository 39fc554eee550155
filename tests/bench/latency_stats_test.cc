#include "bench/latency_stats.h"

#include <numeric>

#include <gtest/gtest.h>

namespace inferd::bench {
namespace {

std::vector<uint64_t> OneTo(uint64_t n) {
  std::vector<uint64_t> v(n);
  std::iota(v.begin(), v.end(), 1);
  return v;
}

TEST(NearestRankPercentile, PicksTheSmallestValueCoveringThePercentage) {
  auto v = OneTo(100);
  EXPECT_EQ(NearestRankPercentile(v, 50), 50u);
  EXPECT_EQ(NearestRankPercentile(v, 90), 90u);
  EXPECT_EQ(NearestRankPercentile(v, 95), 95u);
  EXPECT_EQ(NearestRankPercentile(v, 99), 99u);
  EXPECT_EQ(NearestRankPercentile(v, 100), 100u);
}

TEST(NearestRankPercentile, RoundsTheRankUpOnSmallSamples) {
  auto v = OneTo(10);
  EXPECT_EQ(NearestRankPercentile(v, 50), 5u);   // rank ceil(5.0) = 5
  EXPECT_EQ(NearestRankPercentile(v, 51), 6u);   // rank ceil(5.1) = 6
  EXPECT_EQ(NearestRankPercentile(v, 95), 10u);  // rank ceil(9.5) = 10
  EXPECT_EQ(NearestRankPercentile(v, 1), 1u);
}

TEST(NearestRankPercentile, IsNotFooledByFloatFuzzAtExactRanks) {
  // 0.95 * 20 is 18.999999… in binary floating point; the rank must still be 19.
  auto v = OneTo(20);
  EXPECT_EQ(NearestRankPercentile(v, 95), 19u);
  auto w = OneTo(1000);
  EXPECT_EQ(NearestRankPercentile(w, 99.9), 999u);
}

TEST(NearestRankPercentile, HandlesEmptyAndSingleSamples) {
  EXPECT_EQ(NearestRankPercentile({}, 50), 0u);
  std::vector<uint64_t> one{42};
  EXPECT_EQ(NearestRankPercentile(one, 1), 42u);
  EXPECT_EQ(NearestRankPercentile(one, 99), 42u);
}

TEST(SummarizeLatencies, SortsAndComputesEveryField) {
  std::vector<uint64_t> v{900, 100, 500, 300, 700};
  LatencySummary s = SummarizeLatencies(v);
  EXPECT_EQ(s.count, 5u);
  EXPECT_DOUBLE_EQ(s.avg_us, 500.0);
  EXPECT_EQ(s.min_us, 100u);
  EXPECT_EQ(s.max_us, 900u);
  EXPECT_EQ(s.p50_us, 500u);  // rank ceil(2.5) = 3
  EXPECT_EQ(s.p90_us, 900u);  // rank ceil(4.5) = 5
  EXPECT_EQ(s.p99_us, 900u);
}

TEST(SummarizeLatencies, AveragesLargeValuesWithoutOverflow) {
  std::vector<uint64_t> v(4, uint64_t{1} << 62);
  LatencySummary s = SummarizeLatencies(v);
  EXPECT_DOUBLE_EQ(s.avg_us, static_cast<double>(uint64_t{1} << 62));
}

TEST(SummarizeLatencies, OfNothingIsAllZero) {
  std::vector<uint64_t> v;
  LatencySummary s = SummarizeLatencies(v);
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.p99_us, 0u);
}

TEST(IsStable, NeedsEnoughWindows) {
  std::vector<double> t{100, 100};
  EXPECT_FALSE(IsStable(t, 3, 0.1));
  t.push_back(100);
  EXPECT_TRUE(IsStable(t, 3, 0.1));
}

TEST(IsStable, JudgesOnlyTheLastWindowsAgainstTheirMean) {
  // Warm-up noise first, then three windows within ±10% of their mean 100.
  std::vector<double> t{10, 500, 95, 100, 105};
  EXPECT_TRUE(IsStable(t, 3, 0.1));
  EXPECT_FALSE(IsStable(t, 4, 0.1));
}

TEST(IsStable, RejectsAWindowOutsideTheTolerance) {
  std::vector<double> t{100, 100, 130};  // mean 110; 130 is 18% above
  EXPECT_FALSE(IsStable(t, 3, 0.1));
  EXPECT_TRUE(IsStable(t, 3, 0.2));
}

TEST(IsStable, AZeroThroughputIsNeverStable) {
  std::vector<double> t{0, 0, 0};
  EXPECT_FALSE(IsStable(t, 3, 0.1));
}

constexpr char kStats[] = R"({"model_stats":[
  {"name":"other","version":"1","inference_count":99,"execution_count":99,
   "inference_stats":{"success":{"count":99,"ns":99}}},
  {"name":"mlp","version":"1","inference_count":10,"execution_count":4,
   "inference_stats":{"success":{"count":10,"ns":50000},"fail":{"count":1,"ns":7},
     "queue":{"count":10,"ns":20000},"compute_input":{"count":4,"ns":1000},
     "compute_infer":{"count":4,"ns":8000},"compute_output":{"count":4,"ns":2000}}},
  {"name":"mlp","version":"2","inference_count":5,"execution_count":5,
   "inference_stats":{"success":{"count":5,"ns":10000},"fail":{"count":0,"ns":0},
     "queue":{"count":5,"ns":0},"compute_input":{"count":5,"ns":0},
     "compute_infer":{"count":5,"ns":0},"compute_output":{"count":5,"ns":0}}}]})";

TEST(ParseServerStats, SumsTheVersionsOfTheModel) {
  auto s = ParseServerStats(kStats, "mlp");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->inference_count, 15u);
  EXPECT_EQ(s->execution_count, 9u);
  EXPECT_EQ(s->success_count, 15u);
  EXPECT_EQ(s->success_ns, 60000u);
  EXPECT_EQ(s->fail_count, 1u);
  EXPECT_EQ(s->queue_ns, 20000u);
  EXPECT_EQ(s->compute_infer_ns, 8000u);
}

TEST(ParseServerStats, ReportsAnAbsentModelAndMalformedDocuments) {
  EXPECT_EQ(ParseServerStats(kStats, "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ParseServerStats("{", "mlp").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseServerStats("[]", "mlp").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseServerStats(R"({"error":"x"})", "mlp").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(DiffServerStats, AveragesEachStageOverTheRequestsInBetween) {
  ServerStatsSnapshot before{.inference_count = 10, .execution_count = 10, .success_count = 10,
                             .success_ns = 1'000'000, .fail_count = 0, .queue_ns = 100'000,
                             .compute_input_ns = 10'000, .compute_infer_ns = 500'000,
                             .compute_output_ns = 20'000};
  ServerStatsSnapshot after = before;
  after.success_count += 4;
  after.execution_count += 2;  // batched: 4 requests in 2 executions
  after.success_ns += 400'000;   // 100 us each
  after.queue_ns += 80'000;      // 20 us
  after.compute_input_ns += 4'000;    // 1 us
  after.compute_infer_ns += 200'000;  // 50 us
  after.compute_output_ns += 8'000;   // 2 us
  ServerBreakdown d = DiffServerStats(before, after);
  EXPECT_EQ(d.requests, 4u);
  EXPECT_EQ(d.executions, 2u);
  EXPECT_DOUBLE_EQ(d.avg_request_us, 100.0);
  EXPECT_DOUBLE_EQ(d.avg_queue_us, 20.0);
  EXPECT_DOUBLE_EQ(d.avg_compute_input_us, 1.0);
  EXPECT_DOUBLE_EQ(d.avg_compute_infer_us, 50.0);
  EXPECT_DOUBLE_EQ(d.avg_compute_output_us, 2.0);
  EXPECT_DOUBLE_EQ(d.avg_overhead_us, 27.0);
}

TEST(DiffServerStats, IsZeroWithoutRequestsOrWhenCountersWentBackwards) {
  ServerStatsSnapshot a{.success_count = 5, .success_ns = 500};
  EXPECT_EQ(DiffServerStats(a, a).requests, 0u);
  ServerStatsSnapshot reloaded{.success_count = 1, .success_ns = 10};
  ServerBreakdown d = DiffServerStats(a, reloaded);
  EXPECT_EQ(d.requests, 0u);
  EXPECT_EQ(d.avg_request_us, 0.0);
}

}  // namespace
}  // namespace inferd::bench
