// InferencePayload's operator new and delete (scheduler.h): its blocks come from a BlockPool.
#include "core/block_pool.h"
#include "scheduling/scheduler.h"

namespace inferd::scheduling {

using PayloadBlocks = BlockPool<sizeof(InferencePayload)>;

void* InferencePayload::operator new(size_t size) { return PayloadBlocks::Allocate(size); }

void InferencePayload::operator delete(void* block, size_t size) {
  PayloadBlocks::Free(block, size);
}

}  // namespace inferd::scheduling
