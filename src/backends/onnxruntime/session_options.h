// Turns a model config into the Ort::SessionOptions of one instance: thread counts from the CPU
// budget (InstanceOptions) or the config, Triton's onnxruntime parameters (execution_mode,
// enable_mem_arena, enable_mem_pattern, session.use_device_allocator_for_initializers,
// memory.enable_memory_arena_shrinkage, enable_thread_spinning), the graph optimization level
// (optimization { graph { level } } or the graph_optimization_level parameter) and the execution
// providers planned by execution_providers.h. Called by the ONNX Runtime backend per instance.
#pragma once

#include <onnxruntime_cxx_api.h>

#include <span>
#include <string>

#include "backends/backend.h"
#include "backends/onnxruntime/execution_providers.h"

namespace inferd::backends::ort {

struct SessionPlan {
  ProviderPlan providers;
  // Whether the session runs on the environment's global thread pools (the server's engine
  // budget) rather than pools of its own; then the counts below are the global pools'.
  bool shared_threads = false;
  int intra_op_threads = 1;
  int inter_op_threads = 1;
  // Run option memory.enable_memory_arena_shrinkage ("cpu:0"), empty when not set.
  std::string arena_shrinkage;
};

// The environment's global thread pools, when the backend made them (shared by every session
// that does not ask for threads of its own).
struct GlobalPools {
  bool enabled = false;
  int intra_op_threads = 1;
};

// Fills `options`; INVALID_ARGUMENT for a bad parameter, UNAVAILABLE for a provider the build
// lacks or cannot start (e.g. the CUDA provider library is there but CUDA itself is not). A
// model whose config sets intra_op_thread_count or inter_op_thread_count gets pools of its own
// sized so; every other model shares `global` when enabled.
Result<SessionPlan> ConfigureSession(Ort::SessionOptions& options,
                                     const config::ModelConfig& config,
                                     const InstanceOptions& instance,
                                     std::span<const std::string> available,
                                     const GlobalPools& global = {});

}  // namespace inferd::backends::ort
