#include "metrics/histogram.h"

#include <gtest/gtest.h>

namespace inferd::metrics {
namespace {

TEST(Histogram, CountsEachObservationInTheFirstBucketThatHoldsIt) {
  Histogram h;
  h.Observe(50'000);         // 50 µs  -> le 0.0001
  h.Observe(100'000);        // 100 µs -> le 0.0001 (bounds are inclusive)
  h.Observe(2'000'000);      // 2 ms   -> le 0.0025
  h.Observe(60'000'000'000); // 60 s   -> +Inf only
  const HistogramSnapshot s = h.Snapshot();
  EXPECT_EQ(s.cumulative[0], 2u);                                // le 0.0001
  EXPECT_EQ(s.cumulative[3], 2u);                                // le 0.001
  EXPECT_EQ(s.cumulative[4], 3u);                                // le 0.0025
  EXPECT_EQ(s.cumulative[kLatencyBucketsSeconds.size() - 1], 3u);  // le 10
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.sum_ns, 50'000u + 100'000u + 2'000'000u + 60'000'000'000u);
}

TEST(Histogram, StartsEmpty) {
  const HistogramSnapshot s = Histogram().Snapshot();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.sum_ns, 0u);
  for (uint64_t c : s.cumulative) EXPECT_EQ(c, 0u);
}

}  // namespace
}  // namespace inferd::metrics
