#include "http/deadline_sweeper.h"

#include <chrono>
#include <memory>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

namespace inferd::http {
namespace {

namespace net = boost::asio;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Runs `step` every `period` on `ioc` until it returns false.
void Every(net::io_context& ioc, milliseconds period, std::function<bool()> step) {
  auto timer = std::make_shared<net::steady_timer>(ioc, period);
  timer->async_wait([&ioc, timer, period, step = std::move(step)](auto ec) {
    if (!ec && step()) Every(ioc, period, step);
  });
}

TEST(DeadlineSweeper, TicksATwentiethOfTheShortestTimeoutWithinBounds) {
  net::io_context ioc;
  std::optional<ConnectionDeadline> a(std::in_place, ioc, std::chrono::seconds(60), [] {});
  EXPECT_EQ(net::use_service<DeadlineSweeper>(ioc).tick(), milliseconds(500));
  ConnectionDeadline b(ioc, std::chrono::seconds(1), [] {});
  EXPECT_EQ(net::use_service<DeadlineSweeper>(ioc).tick(), milliseconds(50));
  ConnectionDeadline c(ioc, milliseconds(1), [] {});
  EXPECT_EQ(net::use_service<DeadlineSweeper>(ioc).tick(), milliseconds(10));
}

TEST(DeadlineSweeper, AnArmedDeadlineExpiresAfterItsTimeoutAndNotBefore) {
  net::io_context ioc;
  std::optional<Clock::time_point> expired_at;
  std::optional<ConnectionDeadline> deadline;
  deadline.emplace(ioc, milliseconds(100), [&] {
    expired_at = Clock::now();
    // The last connection leaves (later: not from inside its own expiry), so the sweeper
    // stops and run() returns.
    net::post(ioc, [&] { deadline.reset(); });
  });
  const auto armed_at = Clock::now();
  deadline->Arm(milliseconds(100));
  ioc.run_for(std::chrono::seconds(10));
  ASSERT_TRUE(expired_at.has_value());
  EXPECT_GE(*expired_at - armed_at, milliseconds(100));
  EXPECT_LT(*expired_at - armed_at, std::chrono::seconds(2));  // ~120 ms; slack for a busy box
}

TEST(DeadlineSweeper, ReArmingKeepsAConnectionAliveAndDisarmingStopsTheClock) {
  net::io_context ioc;
  int expired = 0;
  // A 300 ms timeout against progress every 20 ms: only a stall of this thread longer than
  // ~280 ms (a very busy machine) could let it run out.
  ConnectionDeadline deadline(ioc, milliseconds(300), [&] { ++expired; });
  deadline.Arm(milliseconds(300));
  const auto start = Clock::now();
  Every(ioc, milliseconds(20), [&] {
    if (Clock::now() - start > milliseconds(600)) return false;
    deadline.Arm(milliseconds(300));
    return true;
  });
  ioc.run_for(milliseconds(650));
  EXPECT_EQ(expired, 0);

  deadline.Disarm();  // e.g. the server works on a request: no timeout however long it takes
  ioc.restart();
  ioc.run_for(milliseconds(500));
  EXPECT_EQ(expired, 0);

  deadline.Arm(milliseconds(300));
  ioc.restart();
  ioc.run_for(milliseconds(1500));
  EXPECT_EQ(expired, 1);  // and only once: expiry disarms
}

TEST(DeadlineSweeper, AWatchStartsOneToTwoFastTicksLaterUnlessCancelled) {
  net::io_context ioc;
  std::optional<Clock::time_point> watched_at;
  int watches = 0;
  // Timeouts of a minute: the sweeper ticks every 500 ms, except while a watch is due.
  ConnectionDeadline deadline(ioc, std::chrono::seconds(60), [] {}, [&] {
    ++watches;
    watched_at = Clock::now();
  });
  deadline.Arm(std::chrono::seconds(60));
  ioc.run_for(milliseconds(20));  // the slow tick is pending

  const auto requested_at = Clock::now();
  deadline.WatchSoon();
  ioc.restart();
  ioc.run_for(milliseconds(300));
  ASSERT_EQ(watches, 1);
  EXPECT_GE(*watched_at - requested_at, DeadlineSweeper::kWatchTick);
  EXPECT_LT(*watched_at - requested_at, milliseconds(250));  // not the 500 ms tick

  deadline.WatchSoon();
  deadline.CancelWatch();  // answered before the watch was due
  ioc.restart();
  ioc.run_for(milliseconds(100));
  EXPECT_EQ(watches, 1);
}

TEST(DeadlineSweeper, StopsTickingWhenTheLastConnectionLeaves) {
  net::io_context ioc;
  auto deadline = std::make_unique<ConnectionDeadline>(ioc, milliseconds(100), [] {});
  deadline->Arm(milliseconds(100));
  net::steady_timer leave(ioc, milliseconds(30));
  leave.async_wait([&](auto) { deadline.reset(); });
  const auto start = Clock::now();
  ioc.run_for(std::chrono::seconds(10));  // returns once no tick is pending
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
}

}  // namespace
}  // namespace inferd::http
