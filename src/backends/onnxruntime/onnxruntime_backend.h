// ONNX Runtime engine: one Ort::Session per ModelInstance, sharing one process-wide Ort::Env.
// Config parameters read (Triton's onnxruntime backend names):
//   intra_op_thread_count, inter_op_thread_count — override InstanceOptions;
//   enable_thread_spinning ("true"/"false", default false: spinning burns cores the HTTP
//   threads need on small boxes);
//   graph_optimization_level ("disable", "basic", "extended", "all"; default "all").
#pragma once

#include <memory>

#include "backends/backend.h"

namespace inferd::backends {

// Returns the ONNX Runtime backend. Thread-safe; CreateInstance may be called concurrently.
Result<std::unique_ptr<Backend>> CreateOnnxRuntimeBackend();

}  // namespace inferd::backends
