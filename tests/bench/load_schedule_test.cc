#include "bench/load_schedule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace inferd::bench {
namespace {

using ::testing::ElementsAre;

TEST(ParseConcurrencyRange, ExpandsGeometricSteps) {
  auto r = ParseConcurrencyRange("1:64:x2");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(*r, ElementsAre(1, 2, 4, 8, 16, 32, 64));
}

TEST(ParseConcurrencyRange, EndsWithTheEndEvenWhenAStepOvershootsIt) {
  auto r = ParseConcurrencyRange("1:50:x4");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, ElementsAre(1, 4, 16, 50));
}

TEST(ParseConcurrencyRange, ExpandsAdditiveStepsListsAndSingles) {
  EXPECT_THAT(*ParseConcurrencyRange("2:8:3"), ElementsAre(2, 5, 8));
  EXPECT_THAT(*ParseConcurrencyRange("1:4"), ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(*ParseConcurrencyRange("1,8,64"), ElementsAre(1, 8, 64));
  EXPECT_THAT(*ParseConcurrencyRange("16"), ElementsAre(16));
}

TEST(ParseConcurrencyRange, RejectsMalformedRanges) {
  for (const char* bad : {"", "0", "-1", "a", "8:1", "1:8:x1", "1:8:0", "1:2:3:4", "1,,2",
                          "1.5", "1:8:x"}) {
    EXPECT_FALSE(ParseConcurrencyRange(bad).ok()) << bad;
  }
}

TEST(ParseRange, AcceptsFractionalRates) {
  auto r = ParseRange("50:200:50");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, ElementsAre(50, 100, 150, 200));
  EXPECT_THAT(*ParseRange("0.5"), ElementsAre(0.5));
}

TEST(ArrivalSchedule, ConstantArrivalsAreEvenlySpaced) {
  ArrivalSchedule s(Arrival::kConstant, 1000, 1);
  s.Generate(0.01);  // 10 ms at 1000/s: offsets 0, 1 ms, ..., 9 ms
  const auto& t = s.offsets_ns();
  ASSERT_EQ(t.size(), 10u);
  for (size_t i = 0; i < t.size(); ++i) EXPECT_EQ(t[i], i * 1'000'000) << i;
}

TEST(ArrivalSchedule, PoissonArrivalsHaveTheRequestedMeanRateAndVaryingGaps) {
  ArrivalSchedule s(Arrival::kPoisson, 1000, 7);
  s.Generate(20.0);
  const auto& t = s.offsets_ns();
  // 20000 expected; the standard deviation of a Poisson count is sqrt(20000) ≈ 141.
  EXPECT_NEAR(static_cast<double>(t.size()), 20000.0, 700.0);
  // Exponential gaps: the coefficient of variation is 1 (constant spacing would give 0).
  double sum = 0, sum_sq = 0;
  for (size_t i = 1; i < t.size(); ++i) {
    const double g = static_cast<double>(t[i] - t[i - 1]);
    sum += g;
    sum_sq += g * g;
  }
  const double n = static_cast<double>(t.size() - 1);
  const double mean = sum / n;
  const double cv = std::sqrt(sum_sq / n - mean * mean) / mean;
  EXPECT_NEAR(mean, 1e6, 5e4);
  EXPECT_NEAR(cv, 1.0, 0.05);
  for (size_t i = 1; i < t.size(); ++i) ASSERT_LE(t[i - 1], t[i]);
}

TEST(ArrivalSchedule, PoissonArrivalsAreRepeatableForASeed) {
  ArrivalSchedule a(Arrival::kPoisson, 500, 42), b(Arrival::kPoisson, 500, 42),
      c(Arrival::kPoisson, 500, 43);
  a.Generate(1);
  b.Generate(1);
  c.Generate(1);
  EXPECT_EQ(a.offsets_ns(), b.offsets_ns());
  EXPECT_NE(a.offsets_ns(), c.offsets_ns());
}

}  // namespace
}  // namespace inferd::bench
