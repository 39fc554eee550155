// Which ONNX Runtime execution providers a model instance gets, decided from the model config
// the way Triton's onnxruntime backend reads it — and refused, with a message naming the
// provider and the providers the ORT build has, when the build lacks one the config asks for.
// Pure logic over names (no ORT calls), so the rules are unit-tested without an accelerator;
// session_options.cc turns a plan into Ort::SessionOptions.
//
// Priority, highest first (Triton's): the config's gpu_execution_accelerator entries in order
// (instances on a GPU only), the CUDA provider (instances on a GPU), the config's
// cpu_execution_accelerator entries in order, then ORT's default CPU provider.
// Accelerator names: GPU "tensorrt", "cuda" (options for the CUDA provider itself); CPU
// "openvino", "dnnl", "xnnpack". A config may ask for a CPU fallback instead of an error with
// parameters { key: "execution_accelerator_fallback" value: { string_value: "cpu" } }: then
// providers the build lacks are left out (and logged), and a GPU instance runs on the CPU.
#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include "config/model_config.pb.h"
#include "core/status.h"

namespace inferd::backends::ort {

struct ExecutionProvider {
  std::string provider;                        // ORT's name: "CUDAExecutionProvider"
  std::map<std::string, std::string> options;  // ORT's provider option keys and values
};

struct ProviderPlan {
  std::vector<ExecutionProvider> providers;  // highest priority first; CPU is implicit last
  std::vector<std::string> skipped;          // what a fallback left out, for the log
  bool on_gpu = false;                       // false when a fallback moved a GPU instance
};

// The ORT provider name a config accelerator maps to ("tensorrt" -> "TensorrtExecutionProvider"),
// or "" when the name is not one inferd knows.
std::string ProviderForAccelerator(std::string_view accelerator, bool gpu_list);

// Plans the providers of one instance (`on_gpu`: its instance group is KIND_GPU, on `gpu_id`),
// given the providers this ORT build has (Ort::GetAvailableProviders()). INVALID_ARGUMENT for
// an unknown accelerator name or bad option; UNAVAILABLE when the build lacks a provider and the
// config asks for no fallback.
Result<ProviderPlan> PlanExecutionProviders(const config::ModelConfig& config, bool on_gpu,
                                            int gpu_id, std::span<const std::string> available);

}  // namespace inferd::backends::ort
