// WorkerSet: a scheduler's worker threads, started when work arrives and ended by themselves
// after idling, at most one per engine instance. A loaded model with nothing to do holds no
// thread, so the threads of a server with many models follow its load, not its model count
// (the engines' compute threads are one shared pool; see docs/scheduling.md, "CPU budget").
// Not thread-safe: the owning scheduler calls everything under its own mutex, except that it
// joins the threads TakeAll returns after releasing that mutex.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

namespace inferd::scheduling {

class WorkerSet {
 public:
  // How long a worker waits for work before it ends.
  static constexpr std::chrono::milliseconds kIdleExit{2000};

  explicit WorkerSet(size_t max_threads) : max_threads_(std::max<size_t>(1, max_threads)) {}

  // Starts a thread running `loop` unless one is idle (it will take the work) or `max_threads`
  // are running. Joins threads that have ended first.
  void StartIfNeeded(const std::function<void()>& loop) {
    Reap();
    if (idle_ > 0 || live_ >= max_threads_) return;
    ++live_;
    threads_.emplace_back(loop);
  }
  // A worker starts or stops waiting for work.
  void EnterIdle() { ++idle_; }
  void LeaveIdle() { --idle_; }
  // Called by a worker that ends (its last call under the owner's mutex).
  void Ended() {
    --live_;
    ended_.push_back(std::this_thread::get_id());
  }
  size_t live() const { return live_; }

  // Every thread started and not yet joined, for the owner to join outside its mutex.
  std::vector<std::thread> TakeAll() {
    ended_.clear();
    return std::exchange(threads_, {});
  }

 private:
  // Joins the threads that called Ended: they hold no lock any more and are about to return.
  void Reap() {
    for (const auto& id : ended_) {
      auto it = std::find_if(threads_.begin(), threads_.end(),
                             [&](const std::thread& t) { return t.get_id() == id; });
      if (it == threads_.end()) continue;
      it->join();
      threads_.erase(it);
    }
    ended_.clear();
  }

  const size_t max_threads_;
  size_t live_ = 0;
  size_t idle_ = 0;
  std::vector<std::thread> threads_;
  std::vector<std::thread::id> ended_;
};

}  // namespace inferd::scheduling
