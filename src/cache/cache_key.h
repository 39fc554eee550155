// CacheKey: what makes two inference requests the same for the response cache. Unlike
// Triton, which hashes only input names and bytes, the key covers the model name and resolved
// version; every input's name, datatype, shape and bytes (in name order, so input order does
// not matter); the requested outputs with their parameters (binary or JSON form,
// classification); and the request parameters that can change the answer (all except
// scheduling hints such as priority and timeout). The small metadata part is kept verbatim
// and compared exactly on lookup; tensor bytes enter as 128-bit digests. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/inference_request.h"

namespace inferd::cache {

struct Digest128 {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const Digest128&) const = default;
};

// MurmurHash3 (x64, 128-bit) of `bytes`.
Digest128 Hash128(std::span<const std::byte> bytes, uint64_t seed = 0);

struct CacheKey {
  Digest128 digest;      // over `metadata` and every input's byte digest
  std::string metadata;  // model, version, input names/dtypes/shapes/sizes, outputs, parameters
  bool operator==(const CacheKey&) const = default;
};

// `version` is the version that serves the request (resolved, never 0).
CacheKey ComputeCacheKey(const InferenceRequest& request, int64_t version);

}  // namespace inferd::cache
