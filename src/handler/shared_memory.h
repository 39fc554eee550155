// SharedMemoryRegistry: Triton's system shared memory extension. Clients create a POSIX shared
// memory object (shm_open), register a window of it under a name, and then name that region in
// an inference request instead of sending tensor bytes: inputs are read from it, outputs
// written into it. Both frontends share one registry (created by `inferd serve`).
//
// Safety: every access is checked against the registered window (offset and size, overflow
// included), and a region's mapping lives as long as anything uses it — unregistering while a
// request reads or writes it only removes the name; the memory stays mapped until that request
// is done. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/inference_request.h"
#include "core/mutex.h"
#include "core/status.h"

namespace inferd::handler {

struct SharedMemoryRegionStatus {
  std::string name;
  std::string key;       // the shm_open name, e.g. "/input0"
  uint64_t offset = 0;   // where the window starts in the object, bytes
  uint64_t byte_size = 0;
};

// A checked window into a registered region, kept mapped while this lives.
struct SharedMemoryView {
  std::span<std::byte> bytes;
  std::shared_ptr<const void> owner;  // the mapping
};

class SharedMemoryRegistry {
 public:
  SharedMemoryRegistry() = default;
  ~SharedMemoryRegistry();

  // Maps `byte_size` bytes at `offset` of the POSIX shared memory object `key`. INVALID_ARGUMENT
  // naming the field for a bad name, key, offset or size (beyond the object's end included);
  // ALREADY_EXISTS-like INVALID_ARGUMENT when `name` is taken; NOT_FOUND when there is no
  // object `key`.
  Status Register(std::string_view name, std::string_view key, uint64_t offset,
                  uint64_t byte_size) EXCLUDES(mu_);
  // One region, or every region when `name` is empty. NOT_FOUND for an unknown name.
  Status Unregister(std::string_view name) EXCLUDES(mu_);
  // One region's status, or every region's when `name` is empty. NOT_FOUND for an unknown name.
  Result<std::vector<SharedMemoryRegionStatus>> Regions(std::string_view name) const
      EXCLUDES(mu_);

  // `byte_size` bytes at `offset` of region `name`; `what` names the tensor in messages.
  Result<SharedMemoryView> View(std::string_view name, uint64_t offset, uint64_t byte_size,
                                std::string_view what) const EXCLUDES(mu_);

 private:
  struct Region {
    SharedMemoryRegionStatus status;
    std::shared_ptr<std::byte> base;  // the window's first byte; unmaps when the last user goes
  };
  mutable Mutex mu_;
  std::map<std::string, Region, std::less<>> regions_ GUARDED_BY(mu_);
};

// The shared-memory parameters of one input or output (Triton's names):
// shared_memory_region, shared_memory_byte_size, shared_memory_offset (default 0). nullopt when
// `params` has no shared_memory_region; INVALID_ARGUMENT naming the parameter when a value is
// of the wrong type or missing.
struct SharedMemoryRef {
  std::string region;
  uint64_t offset = 0;
  uint64_t byte_size = 0;
};
Result<std::optional<SharedMemoryRef>> SharedMemoryRefOf(const Parameters& params,
                                                         std::string_view what);

// --- a request's use of regions ---------------------------------------------------------------
bool UsesSharedMemoryOutputs(const InferenceRequest& request);
// Gives every input named in request.input_parameters its bytes from its region (borrowed; the
// tensor keeps the mapping alive). INVALID_ARGUMENT naming the input and parameter.
Status ReadSharedMemoryInputs(const SharedMemoryRegistry& registry, InferenceRequest& request);

struct SharedMemoryOutputTarget {
  std::string output;  // output name
  std::string region;
  SharedMemoryView view;
};
// The regions the requested outputs go to, checked now (before the model runs).
Result<std::vector<SharedMemoryOutputTarget>> SharedMemoryOutputTargets(
    const SharedMemoryRegistry& registry, const InferenceRequest& request);
// Copies each target's output into its region and marks it in response.output_parameters (its
// data then leaves the response). INVALID_ARGUMENT when an output is larger than its region's
// window.
Status WriteSharedMemoryOutputs(const std::vector<SharedMemoryOutputTarget>& targets,
                                InferenceResponse& response);

}  // namespace inferd::handler
