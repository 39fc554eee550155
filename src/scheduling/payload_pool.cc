// InferencePayload's operator new and delete (scheduler.h): a process-wide free list of payload
// blocks. A payload is made on the frontend's thread and freed on a worker's, so a per-thread
// cache would not meet its own blocks again; one list under a mutex does, and its critical
// sections are a few instructions long. The list holds at most kMaxFreeBlocks: a burst of
// queued requests beyond that goes back to the heap as it drains.
#include <array>
#include <new>

#include "core/mutex.h"
#include "scheduling/scheduler.h"

namespace inferd::scheduling {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kPooled = false;  // the sanitizers see every payload's own lifetime
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kPooled = false;
#else
constexpr bool kPooled = true;
#endif
#else
constexpr bool kPooled = true;
#endif

constexpr size_t kMaxFreeBlocks = 64;

class PayloadBlocks {
 public:
  void* Take() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return count_ == 0 ? nullptr : free_[--count_];
  }
  // False when the list is full: the caller frees the block.
  bool Give(void* block) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (count_ == free_.size()) return false;
    free_[count_++] = block;
    return true;
  }

 private:
  Mutex mu_;
  std::array<void*, kMaxFreeBlocks> free_ GUARDED_BY(mu_) = {};
  size_t count_ GUARDED_BY(mu_) = 0;
};

// Never destroyed: payloads may still be freed while static destructors run.
PayloadBlocks& Blocks() {
  static PayloadBlocks* blocks = new PayloadBlocks();
  return *blocks;
}

}  // namespace

void* InferencePayload::operator new(size_t size) {
  // A type derived from the payload has another size; it takes its memory from the heap.
  if (kPooled && size == sizeof(InferencePayload)) {
    if (void* block = Blocks().Take()) return block;
  }
  return ::operator new(size);
}

void InferencePayload::operator delete(void* block, size_t size) {
  if (block == nullptr) return;
  if (kPooled && size == sizeof(InferencePayload) && Blocks().Give(block)) return;
  ::operator delete(block, size);
}

}  // namespace inferd::scheduling
