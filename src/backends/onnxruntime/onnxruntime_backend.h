// ONNX Runtime engine (`backend` "onnxruntime", `platform` "onnxruntime_onnx", model.onnx): one
// Ort::Session per ModelInstance, sharing one process-wide Ort::Env. Sessions are configured
// from the model config as Triton's onnxruntime backend reads it (session_options.h): thread
// counts, execution mode, memory arena and pattern, graph optimization level, and execution
// providers (execution_providers.h) — OpenVINO, TensorRT, CUDA, DNNL, XNNPACK when the ORT
// build in use has them, a clear load error naming the missing provider when it does not.
// Thread spinning is off unless enable_thread_spinning is set: spinning burns the cores the
// HTTP threads need on small boxes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/backend_registry.h"

namespace inferd::backends {

// Returns the ONNX Runtime backend. Thread-safe; CreateInstance may be called concurrently.
Result<std::unique_ptr<Backend>> CreateOnnxRuntimeBackend();

// The registry entry (src/backends/CMakeLists.txt).
BackendFactory OnnxRuntimeBackendFactory();

// The execution providers of the ONNX Runtime library in use (Ort::GetAvailableProviders()).
std::vector<std::string> OnnxRuntimeAvailableProviders();

}  // namespace inferd::backends
