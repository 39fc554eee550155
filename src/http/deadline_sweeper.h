// Connection timeouts without a timer operation per request. Beast's tcp_stream arms a timer
// wait for every read and write and cancels it when the operation completes: on one
// connection that is a timerfd_settime and a cancelled wait (a completion through the
// io_context's queue) several times per request. Here a connection only notes its timeout
// (ConnectionDeadline::Arm: two stores, no clock read), and each io_context's DeadlineSweeper
// walks its connections once per tick — a twentieth of the shortest timeout it has been given,
// 10–500 ms — and closes those whose timeout ran out. A connection times out after at least
// its timeout and at most two ticks more (about 10% late), never early.
//
// The sweeper also starts the disconnect watch of a request that waits: a request answered
// within a few milliseconds (most are) never arms one, which would cost a system call and a
// completion. While watches are due the sweeper ticks every kWatchTick. Internal to src/http.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/mutex.h"

namespace inferd::http {

class DeadlineSweeper;

// One connection's timeout: armed, re-armed and disarmed on the connection's own thread (its
// io_context's), which is also where the sweeper checks it. Registers with its io_context's
// sweeper on construction (from any thread) and leaves on destruction.
class ConnectionDeadline {
 public:
  // `on_expire` runs on the io_context's thread when an armed timeout runs out (it closes the
  // connection's socket); the deadline is disarmed then.
  // `on_watch` runs there kWatchTick to 2 × kWatchTick after WatchSoon, unless CancelWatch
  // came first. Neither may destroy this deadline (the sweeper is walking its list): whatever
  // follows runs later, from the queue.
  ConnectionDeadline(boost::asio::io_context& context, std::chrono::nanoseconds shortest_timeout,
                     std::function<void()> on_expire, std::function<void()> on_watch = {});
  ~ConnectionDeadline();
  ConnectionDeadline(const ConnectionDeadline&) = delete;
  ConnectionDeadline& operator=(const ConnectionDeadline&) = delete;

  // The connection must make progress within `timeout` from now (the sweeper sees "now" as the
  // first tick after this call).
  void Arm(std::chrono::nanoseconds timeout) {
    timeout_ = timeout;
    ++serial_;
  }
  // No timeout until the next Arm (while the server itself works on a request).
  void Disarm() {
    timeout_ = kNever;
    ++serial_;
  }
  // Calls on_watch soon (see the constructor), once.
  void WatchSoon();
  void CancelWatch() { watch_ = Watch::kNone; }

 private:
  friend class DeadlineSweeper;
  static constexpr std::chrono::nanoseconds kNever = std::chrono::nanoseconds::max();
  enum class Watch : uint8_t { kNone, kRequested, kSeen };

  // The sweeper's check at `now`: expiry, then a due watch. True while a watch is pending.
  bool Check(std::chrono::steady_clock::time_point now);

  DeadlineSweeper& sweeper_;
  const std::function<void()> on_expire_;
  const std::function<void()> on_watch_;
  Watch watch_ = Watch::kNone;  // on the io_context's thread, like timeout_
  // Written by Arm/Disarm, read by Check: both on the io_context's thread.
  std::chrono::nanoseconds timeout_ = kNever;
  uint64_t serial_ = 0;
  // The sweeper's own: which Arm it last saw, and when.
  uint64_t seen_serial_ = 0;
  std::chrono::steady_clock::time_point seen_at_;
  // The sweeper's list (under its mutex).
  ConnectionDeadline* prev_ = nullptr;
  ConnectionDeadline* next_ = nullptr;
};

// One per io_context (an Asio service: boost::asio::use_service<DeadlineSweeper>(context)).
// Ticks only while it has connections.
class DeadlineSweeper final : public boost::asio::execution_context::service {
 public:
  using key_type = DeadlineSweeper;
  static boost::asio::execution_context::id id;
  static constexpr std::chrono::milliseconds kWatchTick{10};

  explicit DeadlineSweeper(boost::asio::io_context& context);
  ~DeadlineSweeper() override;

  // The tick now in use (tests).
  std::chrono::nanoseconds tick() const EXCLUDES(mu_);

 private:
  friend class ConnectionDeadline;
  using Timer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                  boost::asio::wait_traits<std::chrono::steady_clock>,
                                                  boost::asio::io_context::executor_type>;

  void shutdown() override EXCLUDES(mu_);
  void Add(ConnectionDeadline* d, std::chrono::nanoseconds shortest_timeout) EXCLUDES(mu_);
  void Remove(ConnectionDeadline* d) EXCLUDES(mu_);
  void WatchRequested() EXCLUDES(mu_);
  void StartTimer(std::chrono::nanoseconds after) REQUIRES(mu_);
  void Sweep(uint64_t generation) EXCLUDES(mu_);

  mutable Mutex mu_;
  ConnectionDeadline* head_ GUARDED_BY(mu_) = nullptr;
  std::chrono::nanoseconds tick_ GUARDED_BY(mu_) = std::chrono::milliseconds(500);
  bool ticking_ GUARDED_BY(mu_) = false;
  bool fast_ GUARDED_BY(mu_) = false;  // ticking every kWatchTick: watches are pending
  uint64_t generation_ GUARDED_BY(mu_) = 0;  // of the pending tick (a re-armed one is stale)
  bool shut_down_ GUARDED_BY(mu_) = false;
  Timer timer_;
};

}  // namespace inferd::http
