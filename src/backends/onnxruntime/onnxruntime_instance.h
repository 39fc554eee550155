// One ONNX Runtime session serving as a ModelInstance: converts inferd's tensors to OrtValues
// and back (borrowing request and result bytes where it can) and, for steady streams of
// same-shaped requests, keeps the small inputs' and outputs' values and an IoBinding over them
// per input-shape combination, so a run makes no values of its own. Made by the ONNX Runtime
// backend (onnxruntime_backend.h) once the session is loaded.
#pragma once

#include <onnxruntime_cxx_api.h>

#include <memory>
#include <string>

#include "backends/backend.h"
#include "config/model_config.h"

namespace inferd::backends::ort {

// The signature entry of a model input or output `name` of type `info`; INVALID_ARGUMENT for a
// value that is not a tensor or an element type inferd does not serve.
Result<config::TensorSignature> ReadTensorSignature(const std::string& name,
                                                    const Ort::TypeInfo& info);

// The instance over `session`, whose inputs and outputs are `signature`. `arena_shrinkage` is
// the run option memory.enable_memory_arena_shrinkage ("" when not set).
std::unique_ptr<ModelInstance> MakeInstance(Ort::Session session,
                                            config::ModelSignature signature,
                                            const std::string& arena_shrinkage);

}  // namespace inferd::backends::ort
