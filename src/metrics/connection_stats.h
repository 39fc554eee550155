// ConnectionStats: open and accepted connections of one frontend (HTTP, gRPC), for the
// inferd_open_connections / inferd_connections_total metrics. Frontends count; lock-free.
#pragma once

#include <atomic>
#include <cstdint>

namespace inferd::metrics {

class ConnectionStats {
 public:
  void Opened() {
    open_.fetch_add(1, std::memory_order_relaxed);
    total_.fetch_add(1, std::memory_order_relaxed);
  }
  void Closed() { open_.fetch_sub(1, std::memory_order_relaxed); }
  int64_t open() const { return open_.load(std::memory_order_relaxed); }
  uint64_t total() const { return total_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> open_{0};
  std::atomic<uint64_t> total_{0};
};

}  // namespace inferd::metrics
