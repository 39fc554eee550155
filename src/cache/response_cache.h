// ResponseCache: an LRU cache of successful inference responses under a byte budget
// (--cache-size), shared by every model whose config says `response_cache { enable: true }`.
// The facade (server::InferenceServer) looks a request up before validation and scheduling and
// fills the cache when a request succeeds; errors are never inserted. Entries hold the output
// tensors by reference to their immutable bytes, so a hit copies no tensor data.
// Thread-safe: one mutex around the LRU list and index; lookups are O(1).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <unordered_map>

#include "cache/cache_key.h"
#include "core/inference_request.h"
#include "core/mutex.h"
#include "core/status.h"
#include "metrics/prometheus_exposition.h"

namespace inferd::cache {

class ResponseCache {
 public:
  struct Options {
    uint64_t capacity_bytes = 0;  // byte budget for keys and outputs; must be > 0
  };

  static Result<std::unique_ptr<ResponseCache>> Create(const Options& options);

  // The cached response for `key`, made most recently used; nullopt on a miss.
  std::optional<InferenceResponse> Lookup(const CacheKey& key) EXCLUDES(mu_);
  // Stores `response` under `key`, evicting least recently used entries to fit the budget.
  // A response larger than the whole budget is not stored. Returns whether it was stored.
  bool Insert(const CacheKey& key, const InferenceResponse& response) EXCLUDES(mu_);

  metrics::CacheSnapshot Stats() const EXCLUDES(mu_);

  // Bytes an entry for `key` and `response` is charged against the budget.
  static uint64_t EntryBytes(const CacheKey& key, const InferenceResponse& response);

 private:
  struct Entry {
    CacheKey key;
    InferenceResponse response;
    uint64_t bytes = 0;
  };
  struct DigestHash {
    size_t operator()(const Digest128& d) const { return static_cast<size_t>(d.hi ^ d.lo); }
  };
  using Lru = std::list<Entry>;  // front = most recently used

  explicit ResponseCache(const Options& options) : options_(options) {}
  void EvictOne() REQUIRES(mu_);

  const Options options_;
  mutable Mutex mu_;
  Lru lru_ GUARDED_BY(mu_);
  std::unordered_map<Digest128, Lru::iterator, DigestHash> index_ GUARDED_BY(mu_);
  metrics::CacheSnapshot stats_ GUARDED_BY(mu_);
};

}  // namespace inferd::cache
