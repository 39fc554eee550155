// What an engine reports about a model file: the names, element types and shapes of its inputs
// and outputs, as declared by the file itself (e.g. an ONNX graph). Backends produce it;
// CompleteAndValidate (auto_complete.h) checks a config against it and fills gaps from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/data_type.h"

namespace inferd::config {

struct TensorSignature {
  std::string name;
  // kInvalid when the engine's element type has no inferd equivalent.
  inferd::DataType dtype = inferd::DataType::kInvalid;
  // Full shape including any batch dimension; -1 for a dynamic or symbolic dimension.
  std::vector<int64_t> dims;
};

struct ModelSignature {
  std::vector<TensorSignature> inputs;
  std::vector<TensorSignature> outputs;
};

}  // namespace inferd::config
