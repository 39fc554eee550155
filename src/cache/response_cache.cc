#include "cache/response_cache.h"

#include <chrono>

#include "core/duration.h"

namespace inferd::cache {
namespace {

// Bookkeeping per entry and per tensor (list node, index slot, strings' headers).
constexpr uint64_t kEntryOverheadBytes = 160;
constexpr uint64_t kTensorOverheadBytes = 96;

}  // namespace

Result<std::unique_ptr<ResponseCache>> ResponseCache::Create(const Options& options) {
  if (options.capacity_bytes == 0) {
    return InvalidArgument("the response cache needs a byte budget greater than 0");
  }
  return std::unique_ptr<ResponseCache>(new ResponseCache(options));
}

uint64_t ResponseCache::EntryBytes(const CacheKey& key, const InferenceResponse& response) {
  uint64_t bytes = kEntryOverheadBytes + key.metadata.size() + response.model_name.size();
  for (const Tensor& t : response.outputs) {
    bytes +=
        kTensorOverheadBytes + t.name().size() + t.shape().size() * sizeof(int64_t) + t.byte_size();
  }
  return bytes;
}

std::optional<InferenceResponse> ResponseCache::Lookup(const CacheKey& key) {
  const auto start = std::chrono::steady_clock::now();
  MutexLock lock(mu_);
  stats_.lookups++;
  auto it = index_.find(key.digest);
  // The metadata is compared verbatim: only tensor bytes rely on the 128-bit digest.
  if (it == index_.end() || it->second->key.metadata != key.metadata) {
    stats_.misses++;
    stats_.lookup_ns += NanosSince(start);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  stats_.hits++;
  InferenceResponse copy = it->second->response;
  stats_.lookup_ns += NanosSince(start);
  return copy;
}

bool ResponseCache::Insert(const CacheKey& key, const InferenceResponse& response) {
  const auto start = std::chrono::steady_clock::now();
  const uint64_t bytes = EntryBytes(key, response);
  if (bytes > options_.capacity_bytes) return false;
  Entry entry{key, response, bytes};
  entry.response.id.clear();  // per request; the facade sets the asking request's id
  MutexLock lock(mu_);
  if (auto it = index_.find(key.digest); it != index_.end()) {
    // Raced with another miss of the same request: keep one entry, the newer answer.
    stats_.bytes_used -= it->second->bytes;
    lru_.erase(it->second);
    index_.erase(it);
  }
  while (stats_.bytes_used + bytes > options_.capacity_bytes && !lru_.empty()) EvictOne();
  lru_.push_front(std::move(entry));
  index_[key.digest] = lru_.begin();
  stats_.bytes_used += bytes;
  stats_.insertions++;
  stats_.insertion_ns += NanosSince(start);
  return true;
}

void ResponseCache::EvictOne() {
  const Entry& victim = lru_.back();
  index_.erase(victim.key.digest);
  stats_.bytes_used -= victim.bytes;
  stats_.evictions++;
  lru_.pop_back();
}

metrics::CacheSnapshot ResponseCache::Stats() const {
  MutexLock lock(mu_);
  metrics::CacheSnapshot s = stats_;
  s.entries = lru_.size();
  s.capacity_bytes = options_.capacity_bytes;
  return s;
}

}  // namespace inferd::cache
