// ConnectionStats: open and accepted connections of one frontend (HTTP, gRPC), for the
// inferd_open_connections / inferd_connections_total metrics. The HTTP frontend counts each
// connection as it opens and closes (lock-free). gRPC hides its connections from the
// application, so its frontend installs a probe instead, which reads gRPC's own socket list
// whenever the figures are read (at a scrape). Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "core/mutex.h"

namespace inferd::metrics {

struct ConnectionCounts {
  int64_t open = 0;     // connections open now
  uint64_t total = 0;   // connections accepted since start
};

class ConnectionStats {
 public:
  void Opened() {
    open_.fetch_add(1, std::memory_order_relaxed);
    total_.fetch_add(1, std::memory_order_relaxed);
  }
  void Closed() { open_.fetch_sub(1, std::memory_order_relaxed); }
  int64_t open() const { return Read().open; }
  uint64_t total() const { return Read().total; }
  // The counts, from the probe when one is installed, else from Opened/Closed.
  ConnectionCounts Read() const EXCLUDES(probe_mu_) {
    {
      MutexLock lock(probe_mu_);
      if (probe_) return probe_();
    }
    return {open_.load(std::memory_order_relaxed), total_.load(std::memory_order_relaxed)};
  }
  // Installs (or, with an empty function, removes) the probe; it must stay callable until it
  // is removed.
  void SetProbe(std::function<ConnectionCounts()> probe) EXCLUDES(probe_mu_) {
    MutexLock lock(probe_mu_);
    probe_ = std::move(probe);
  }

 private:
  std::atomic<int64_t> open_{0};
  std::atomic<uint64_t> total_{0};
  mutable Mutex probe_mu_;
  std::function<ConnectionCounts()> probe_ GUARDED_BY(probe_mu_);
};

}  // namespace inferd::metrics
