// The scheduling seam between the server facade and the engine instances. The facade wraps a
// validated request in an InferencePayload and enqueues it; a scheduler owns the model's
// instances and their worker threads, runs the payload on one of them, and completes it by
// calling `done` exactly once: on a worker thread after running it, or on the caller's thread
// when the payload is rejected (queue full, model unloading).
#pragma once

#include <absl/container/inlined_vector.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/inference_request.h"
#include "core/status.h"
#include "metrics/inference_stats.h"

namespace inferd::scheduling {

using SteadyClock = std::chrono::steady_clock;

// Output names of one request. Most models have a few outputs: those stay inline, so resolving
// them allocates nothing beyond names too long for the string's own buffer.
using OutputNames = absl::InlinedVector<std::string, 4>;

struct InferencePayload {
  InferenceRequest request;
  // Outputs to compute, resolved by the facade (the requested subset or every output).
  OutputNames output_names;
  int64_t model_version = 0;
  // Rows in this request (the batch dim), 1 for models without batching.
  int64_t batch_size = 1;
  SteadyClock::time_point enqueue_time;
  // The model version's counters; outlives the payload (the payload pins the version).
  metrics::InferenceStats* stats = nullptr;

  // Filled by the scheduler on enqueue.
  uint32_t priority_level = 0;  // 0-based; 0 is served first
  SteadyClock::time_point deadline = SteadyClock::time_point::max();
  uint64_t batch_hash = 0;  // equal for requests that may batch together (BatchCompatible)
  int64_t length = 0;     // padded batching: the length of the padded inputs (padding.h)
  uint64_t sequence = 0;  // arrival order, for preserve_ordering
  // Completion; called exactly once. Must not block for long: it runs on a worker thread.
  std::function<void(Result<InferenceResponse>)> done;

  // One payload is made and freed per request, on different threads (the frontend's and a
  // worker's). These take the memory from a small process-wide free list (payload_pool.cc), so
  // steady traffic reuses a few blocks instead of going to the heap. Thread-safe.
  static void* operator new(size_t size);
  static void operator delete(void* block, size_t size);
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Queues the payload, or completes it at once with UNAVAILABLE when it cannot be queued.
  virtual void Enqueue(std::unique_ptr<InferencePayload> payload) = 0;
  // Number of payloads queued and not yet picked up by a worker.
  virtual size_t queued() const = 0;
};

}  // namespace inferd::scheduling
