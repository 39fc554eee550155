#include "security/rate_limiter.h"

#include <gtest/gtest.h>

namespace inferd::security {
namespace {

using std::chrono::milliseconds;
using Clock = RateLimiter::Clock;

TEST(RateLimiter, DisabledAllowsEverything) {
  RateLimiter limiter({});
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(limiter.Acquire("a", Clock::now()), 0);
}

TEST(RateLimiter, AllowsTheBurstThenAsksToRetry) {
  RateLimiter limiter({.requests_per_second = 2, .burst = 3});
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  EXPECT_EQ(limiter.Acquire("a", t0), 0);
  EXPECT_EQ(limiter.Acquire("a", t0), 0);
  EXPECT_EQ(limiter.Acquire("a", t0), 0);
  EXPECT_EQ(limiter.Acquire("a", t0), 1);
  // Half a second refills one request at 2 per second.
  EXPECT_EQ(limiter.Acquire("a", t0 + milliseconds(500)), 0);
  EXPECT_EQ(limiter.Acquire("a", t0 + milliseconds(500)), 1);
}

TEST(RateLimiter, RetryAfterCoversTheWholeWaitForSlowRates) {
  RateLimiter limiter({.requests_per_second = 0.1, .burst = 1});
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  EXPECT_EQ(limiter.Acquire("a", t0), 0);
  EXPECT_EQ(limiter.Acquire("a", t0), 10);
}

TEST(RateLimiter, ClientsHaveTheirOwnBuckets) {
  RateLimiter limiter({.requests_per_second = 1, .burst = 1});
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  EXPECT_EQ(limiter.Acquire("a", t0), 0);
  EXPECT_GT(limiter.Acquire("a", t0), 0);
  EXPECT_EQ(limiter.Acquire("b", t0), 0);
}

TEST(RateLimiter, ForgetsIdleClientsPastTheBucketLimit) {
  RateLimiter limiter({.requests_per_second = 1, .burst = 1, .max_clients = 2});
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  EXPECT_EQ(limiter.Acquire("a", t0), 0);
  EXPECT_EQ(limiter.Acquire("b", t0), 0);
  EXPECT_EQ(limiter.Acquire("c", t0 + std::chrono::seconds(5)), 0);
  // "a" refilled and was dropped: it starts with a full bucket again.
  EXPECT_EQ(limiter.Acquire("a", t0 + std::chrono::seconds(5)), 0);
}

TEST(RateLimiter, TimeGoingBackwardsDoesNotRefill) {
  RateLimiter limiter({.requests_per_second = 1, .burst = 1});
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  EXPECT_EQ(limiter.Acquire("a", t0), 0);
  EXPECT_GT(limiter.Acquire("a", t0 - std::chrono::seconds(10)), 0);
}

}  // namespace
}  // namespace inferd::security
