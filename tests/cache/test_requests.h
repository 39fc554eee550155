// Request and response builders shared by the cache tests and the cache benchmark.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "core/inference_request.h"

namespace inferd::cache::testing {

inline Tensor Fp32Tensor(std::string name, Shape shape, const std::vector<float>& values) {
  Tensor t(std::move(name), DataType::kFp32, std::move(shape));
  auto bytes = t.AllocateData(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return t;
}

inline InferenceRequest Request(Shape shape, const std::vector<float>& values) {
  InferenceRequest r;
  r.model_name = "m";
  r.inputs.push_back(Fp32Tensor("INPUT0", std::move(shape), values));
  return r;
}

inline InferenceResponse Response(size_t floats) {
  InferenceResponse r;
  r.model_name = "m";
  r.model_version = 1;
  r.outputs.push_back(Fp32Tensor("OUTPUT0", {1, static_cast<int64_t>(floats)},
                                 std::vector<float>(floats, 1.0f)));
  return r;
}

}  // namespace inferd::cache::testing
