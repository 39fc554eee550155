#include "http/deadline_sweeper.h"

#include <algorithm>
#include <utility>

#include <boost/system/error_code.hpp>

namespace inferd::http {

namespace net = boost::asio;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

net::execution_context::id DeadlineSweeper::id;

ConnectionDeadline::ConnectionDeadline(net::io_context& context, nanoseconds shortest_timeout,
                                       std::function<void()> on_expire,
                                       std::function<void()> on_watch)
    : sweeper_(net::use_service<DeadlineSweeper>(context)),
      on_expire_(std::move(on_expire)),
      on_watch_(std::move(on_watch)) {
  sweeper_.Add(this, shortest_timeout);
}

ConnectionDeadline::~ConnectionDeadline() { sweeper_.Remove(this); }

void ConnectionDeadline::WatchSoon() {
  if (watch_ != Watch::kNone) return;
  watch_ = Watch::kRequested;
  sweeper_.WatchRequested();
}

bool ConnectionDeadline::Check(std::chrono::steady_clock::time_point now) {
  if (timeout_ != kNever) {
    if (serial_ != seen_serial_) {  // armed since the last tick: its time counts from now
      seen_serial_ = serial_;
      seen_at_ = now;
    } else if (now - seen_at_ >= timeout_) {
      timeout_ = kNever;
      watch_ = Watch::kNone;
      on_expire_();
      return false;
    }
  }
  switch (watch_) {
    case Watch::kRequested:  // a full tick from now at least
      watch_ = Watch::kSeen;
      return true;
    case Watch::kSeen:
      watch_ = Watch::kNone;
      on_watch_();
      return false;
    case Watch::kNone:
      break;
  }
  return false;
}

DeadlineSweeper::DeadlineSweeper(net::io_context& context)
    : net::execution_context::service(context), timer_(context.get_executor()) {}

DeadlineSweeper::~DeadlineSweeper() = default;

nanoseconds DeadlineSweeper::tick() const {
  MutexLock lock(mu_);
  return tick_;
}

void DeadlineSweeper::shutdown() {
  // The io_context is going: its pending tick is destroyed with its other operations.
  MutexLock lock(mu_);
  shut_down_ = true;
}

void DeadlineSweeper::Add(ConnectionDeadline* d, nanoseconds shortest_timeout) {
  MutexLock lock(mu_);
  tick_ = std::clamp<nanoseconds>(std::min(tick_, shortest_timeout / 20), milliseconds(10),
                                  milliseconds(500));
  d->next_ = head_;
  if (head_ != nullptr) head_->prev_ = d;
  head_ = d;
  if (!ticking_ && !shut_down_) StartTimer(tick_);
}

void DeadlineSweeper::Remove(ConnectionDeadline* d) {
  MutexLock lock(mu_);
  if (d->prev_ != nullptr) {
    d->prev_->next_ = d->next_;
  } else {
    head_ = d->next_;
  }
  if (d->next_ != nullptr) d->next_->prev_ = d->prev_;
  d->prev_ = d->next_ = nullptr;
}

void DeadlineSweeper::WatchRequested() {
  MutexLock lock(mu_);
  if (fast_ || shut_down_) return;
  // From the slow tick to the fast one: the pending tick is re-armed (and goes stale).
  fast_ = true;
  StartTimer(kWatchTick);
}

void DeadlineSweeper::StartTimer(nanoseconds after) {
  ticking_ = true;
  const uint64_t generation = ++generation_;
  timer_.expires_after(after);
  timer_.async_wait([this, generation](const boost::system::error_code& ec) {
    if (!ec) Sweep(generation);
  });
}

void DeadlineSweeper::Sweep(uint64_t generation) {
  const auto now = std::chrono::steady_clock::now();
  MutexLock lock(mu_);
  if (generation != generation_) return;  // re-armed meanwhile: that tick is the live one
  // on_expire closes a socket and on_watch starts a wait: their operations complete later,
  // from the queue, so no connection leaves the list during the walk.
  bool watches = false;
  for (ConnectionDeadline* d = head_; d != nullptr; d = d->next_) watches |= d->Check(now);
  ticking_ = false;
  fast_ = watches;
  if (head_ != nullptr && !shut_down_) StartTimer(fast_ ? nanoseconds(kWatchTick) : tick_);
}

}  // namespace inferd::http
