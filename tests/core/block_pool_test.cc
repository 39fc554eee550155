#include "core/block_pool.h"

#include <gtest/gtest.h>

#include <vector>

namespace inferd {
namespace {

// Each test uses its own block size, so each has a pool of its own.
TEST(BlockPool, ReusesAFreedBlock) {
  using Pool = BlockPool<48>;
  void* first = Pool::Allocate(48);
  Pool::Free(first, 48);
  void* second = Pool::Allocate(48);
  if (INFERD_BLOCK_POOL_ENABLED) {
    EXPECT_EQ(second, first);
  }
  Pool::Free(second, 48);
}

TEST(BlockPool, KeepsAtMostItsLimit) {
  using Pool = BlockPool<56, 2>;
  std::vector<void*> blocks;
  for (int i = 0; i < 5; ++i) blocks.push_back(Pool::Allocate(56));
  for (void* block : blocks) Pool::Free(block, 56);
  EXPECT_EQ(Pool::kept(), INFERD_BLOCK_POOL_ENABLED ? 2u : 0u);
}

TEST(BlockPool, LeavesOtherSizesToTheHeap) {
  using Pool = BlockPool<64>;
  void* larger = Pool::Allocate(80);
  Pool::Free(larger, 80);
  EXPECT_EQ(Pool::kept(), 0u);
  Pool::Free(nullptr, 64);
  EXPECT_EQ(Pool::kept(), 0u);
}

}  // namespace
}  // namespace inferd
