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
                                       std::function<void()> on_expire)
    : sweeper_(net::use_service<DeadlineSweeper>(context)), on_expire_(std::move(on_expire)) {
  sweeper_.Add(this, shortest_timeout);
}

ConnectionDeadline::~ConnectionDeadline() { sweeper_.Remove(this); }

bool ConnectionDeadline::Check(std::chrono::steady_clock::time_point now) {
  if (timeout_ == kNever) return false;
  if (serial_ != seen_serial_) {  // armed since the last tick: its time counts from now
    seen_serial_ = serial_;
    seen_at_ = now;
    return false;
  }
  if (now - seen_at_ < timeout_) return false;
  timeout_ = kNever;
  on_expire_();
  return true;
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
  if (!ticking_ && !shut_down_) StartTimer();
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

void DeadlineSweeper::StartTimer() {
  ticking_ = true;
  timer_.expires_after(tick_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Sweep();
  });
}

void DeadlineSweeper::Sweep() {
  const auto now = std::chrono::steady_clock::now();
  MutexLock lock(mu_);
  // on_expire closes a socket: its operations complete later, from the queue, so no
  // connection leaves the list during the walk.
  for (ConnectionDeadline* d = head_; d != nullptr; d = d->next_) d->Check(now);
  ticking_ = false;
  if (head_ != nullptr && !shut_down_) StartTimer();
}

}  // namespace inferd::http
