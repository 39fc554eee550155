// TorchScript engine on libtorch (`backend` "pytorch", `platform` "pytorch_libtorch", model.pt),
// with Triton's pytorch backend conventions: one torch::jit::Module per ModelInstance; config
// inputs map to forward() arguments by name or by the `<name>__<index>` suffix (INPUT__0 is
// argument 0), outputs to the elements of what forward() returns by the `<name>__<index>`
// suffix or else by their order in the config; batching is on dim 0. A TorchScript file does
// not declare its tensors' types and shapes, so the config must list every input and output
// (Triton requires the same). Data types: every one libtorch 1.13 has (BOOL, UINT8, INT8,
// INT16, INT32, INT64, FP16, BF16, FP32, FP64). Parameters (Triton's names): INFERENCE_MODE
// (default true), DISABLE_OPTIMIZED_EXECUTION (default false), INTRA_OP_THREAD_COUNT (default
// the CPU budget the repository gives each instance, as for ONNX Runtime).
// All torch headers stay in pytorch_backend.cc: they compile slowly.
#pragma once

#include <memory>

#include "backends/backend.h"
#include "backends/backend_registry.h"

namespace inferd::backends {

// Returns the TorchScript backend. Thread-safe; CreateInstance may be called concurrently.
Result<std::unique_ptr<Backend>> CreatePyTorchBackend();

// The registry entry (src/backends/CMakeLists.txt).
BackendFactory PyTorchBackendFactory();

}  // namespace inferd::backends
