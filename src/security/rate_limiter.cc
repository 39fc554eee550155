#include "security/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace inferd::security {

RateLimiter::RateLimiter(const Options& options)
    : rate_(std::max(0.0, options.requests_per_second)),
      burst_(options.burst > 0 ? options.burst : std::max(1.0, options.requests_per_second)),
      max_clients_(std::max<size_t>(1, options.max_clients)) {}

void RateLimiter::Refill(Bucket& bucket, Clock::time_point now) const {
  const double elapsed_s =
      std::chrono::duration<double>(std::max(now, bucket.last) - bucket.last).count();
  bucket.tokens = std::min(burst_, bucket.tokens + elapsed_s * rate_);
  bucket.last = std::max(now, bucket.last);
}

void RateLimiter::DropIdle(Clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Refill(it->second, now);
    it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
  }
  // Still full of busy clients: start over rather than grow without bound.
  if (buckets_.size() >= max_clients_) buckets_.clear();
}

int64_t RateLimiter::Acquire(std::string_view client, Clock::time_point now) {
  if (!enabled()) return 0;
  MutexLock lock(mu_);
  auto it = buckets_.find(std::string(client));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_clients_) DropIdle(now);
    it = buckets_.emplace(std::string(client), Bucket{burst_, now}).first;
  }
  Bucket& bucket = it->second;
  Refill(bucket, now);
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return 0;
  }
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1.0 - bucket.tokens) / rate_)));
}

}  // namespace inferd::security
