// RateLimiter: a token bucket per client (an API token, or an IP address when no token is
// asked for), refilled at `requests_per_second` up to `burst`. The frontends call Acquire() for
// every request but health probes and answer a refusal with HTTP 429 + Retry-After or gRPC
// RESOURCE_EXHAUSTED. Thread-safe; the time is passed in, so tests drive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/mutex.h"

namespace inferd::security {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    double requests_per_second = 0;  // per client; 0 = no limit
    double burst = 0;                // bucket size, requests; 0 = max(1, requests_per_second)
    size_t max_clients = 100000;     // buckets kept; idle full ones are dropped past it
  };

  explicit RateLimiter(const Options& options);

  bool enabled() const { return rate_ > 0; }

  // Takes one request from `client`'s bucket. Returns 0 when allowed, else the whole seconds
  // (at least 1) until the bucket holds a request again: the Retry-After value.
  int64_t Acquire(std::string_view client, Clock::time_point now) EXCLUDES(mu_);

 private:
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  void Refill(Bucket& bucket, Clock::time_point now) const;
  void DropIdle(Clock::time_point now) REQUIRES(mu_);

  const double rate_;
  const double burst_;
  const size_t max_clients_;
  Mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_ GUARDED_BY(mu_);
};

}  // namespace inferd::security
