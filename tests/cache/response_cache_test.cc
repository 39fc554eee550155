#include "cache/response_cache.h"

#include <gtest/gtest.h>

#include "test_requests.h"

namespace inferd::cache {
namespace {

using testing::Request;
using testing::Response;

CacheKey Key(float first) { return ComputeCacheKey(Request({1, 2}, {first, 0}), 1); }

std::unique_ptr<ResponseCache> MakeCache(uint64_t bytes) {
  auto cache = ResponseCache::Create({.capacity_bytes = bytes});
  EXPECT_TRUE(cache.ok());
  return std::move(cache).value();
}

TEST(ResponseCache, MissThenHitReturnsTheStoredOutputs) {
  auto cache = MakeCache(1 << 20);
  EXPECT_FALSE(cache->Lookup(Key(1)).has_value());
  InferenceResponse response = Response(4);
  response.id = "first";
  ASSERT_TRUE(cache->Insert(Key(1), response));
  auto hit = cache->Lookup(Key(1));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->id, "");  // ids belong to requests, not to cached answers
  ASSERT_EQ(hit->outputs.size(), 1u);
  EXPECT_EQ(hit->outputs[0].byte_size(), 16u);
  // The cached bytes are shared, not copied.
  EXPECT_EQ(hit->outputs[0].data().data(), response.outputs[0].data().data());
  const auto s = cache->Stats();
  EXPECT_EQ(s.lookups, 2u);
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.insertions, 1u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.bytes_used, ResponseCache::EntryBytes(Key(1), response));
}

TEST(ResponseCache, SameDigestDifferentMetadataIsAMiss) {
  auto cache = MakeCache(1 << 20);
  CacheKey stored = Key(1);
  ASSERT_TRUE(cache->Insert(stored, Response(4)));
  CacheKey forged = stored;
  forged.metadata += "x";  // a digest collision with other metadata must not hit
  EXPECT_FALSE(cache->Lookup(forged).has_value());
}

TEST(ResponseCache, EvictsLeastRecentlyUsedToStayWithinBudget) {
  const uint64_t entry = ResponseCache::EntryBytes(Key(1), Response(4));
  auto cache = MakeCache(entry * 2 + entry / 2);  // room for two entries
  ASSERT_TRUE(cache->Insert(Key(1), Response(4)));
  ASSERT_TRUE(cache->Insert(Key(2), Response(4)));
  ASSERT_TRUE(cache->Lookup(Key(1)).has_value());  // 1 is now more recent than 2
  ASSERT_TRUE(cache->Insert(Key(3), Response(4)));  // evicts 2
  EXPECT_TRUE(cache->Lookup(Key(1)).has_value());
  EXPECT_FALSE(cache->Lookup(Key(2)).has_value());
  EXPECT_TRUE(cache->Lookup(Key(3)).has_value());
  const auto s = cache->Stats();
  EXPECT_EQ(s.evictions, 1u);
  EXPECT_EQ(s.entries, 2u);
  EXPECT_LE(s.bytes_used, s.capacity_bytes);
}

TEST(ResponseCache, ResponseLargerThanTheBudgetIsNotStored) {
  auto cache = MakeCache(256);
  EXPECT_FALSE(cache->Insert(Key(1), Response(1024)));
  EXPECT_EQ(cache->Stats().entries, 0u);
  EXPECT_EQ(cache->Stats().evictions, 0u);
}

TEST(ResponseCache, ReinsertingAKeyKeepsOneEntry) {
  auto cache = MakeCache(1 << 20);
  ASSERT_TRUE(cache->Insert(Key(1), Response(4)));
  ASSERT_TRUE(cache->Insert(Key(1), Response(8)));
  const auto s = cache->Stats();
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.bytes_used, ResponseCache::EntryBytes(Key(1), Response(8)));
  EXPECT_EQ(cache->Lookup(Key(1))->outputs[0].byte_size(), 32u);
}

TEST(ResponseCache, ZeroBudgetIsRejected) {
  EXPECT_FALSE(ResponseCache::Create({.capacity_bytes = 0}).ok());
}

}  // namespace
}  // namespace inferd::cache
