// BlockPool: a process-wide free list of equally sized memory blocks, for the class-specific
// operator new/delete of objects that every request makes once and frees on another thread
// (made on a frontend's thread, freed on a worker's). A per-thread cache would never see its
// own blocks again; one list under a mutex does, and its critical sections are a few
// instructions long. At most kMaxFree blocks are kept: a burst beyond that goes back to the
// heap as it drains. Under ASan or TSan every call goes to the heap, so that the sanitizers see
// each object's own lifetime. Thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <new>

#include "core/mutex.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define INFERD_BLOCK_POOL_ENABLED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define INFERD_BLOCK_POOL_ENABLED 0
#endif
#endif
#ifndef INFERD_BLOCK_POOL_ENABLED
#define INFERD_BLOCK_POOL_ENABLED 1
#endif

namespace inferd {

template <size_t kBlockSize, size_t kMaxFree = 64>
class BlockPool {
 public:
  // A block of `size` bytes: a kept one when `size` is kBlockSize (a derived class's object
  // is larger and comes from the heap).
  static void* Allocate(size_t size) {
    if (INFERD_BLOCK_POOL_ENABLED && size == kBlockSize) {
      if (void* block = Instance().Take()) return block;
    }
    return ::operator new(size);
  }
  // `size` as given to Allocate.
  static void Free(void* block, size_t size) {
    if (block == nullptr) return;
    if (INFERD_BLOCK_POOL_ENABLED && size == kBlockSize && Instance().Keep(block)) return;
    ::operator delete(block);
  }
  // Blocks kept for reuse now (for tests).
  static size_t kept() { return Instance().count(); }

 private:
  // Never destroyed: objects may still be freed while static destructors run.
  static BlockPool& Instance() {
    static BlockPool* pool = new BlockPool();
    return *pool;
  }

  void* Take() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return count_ == 0 ? nullptr : free_[--count_];
  }
  // False when the list is full: the caller frees the block.
  bool Keep(void* block) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (count_ == free_.size()) return false;
    free_[count_++] = block;
    return true;
  }
  size_t count() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return count_;
  }

  Mutex mu_;
  std::array<void*, kMaxFree> free_ GUARDED_BY(mu_) = {};
  size_t count_ GUARDED_BY(mu_) = 0;
};

}  // namespace inferd
