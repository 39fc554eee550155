#include "backends/onnxruntime/execution_providers.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "config/model_config.h"

namespace inferd::backends::ort {
namespace {

constexpr char kCuda[] = "CUDAExecutionProvider";
constexpr char kTensorRt[] = "TensorrtExecutionProvider";

using Options = std::map<std::string, std::string>;
using Accelerator = config::ModelOptimizationPolicy::ExecutionAccelerators::Accelerator;

bool Has(std::span<const std::string> available, std::string_view provider) {
  return std::find(available.begin(), available.end(), provider) != available.end();
}

bool Truthy(const std::string& v) { return v == "1" || v == "true" || v == "True"; }

// Triton's TensorRT accelerator parameters -> the TensorRT provider's option keys.
Result<Options> TensorRtOptions(const Accelerator& acc, int gpu_id) {
  Options out{{"device_id", std::to_string(gpu_id)}};
  for (const auto& [key, value] : acc.parameters()) {
    if (key == "precision_mode") {
      if (value == "FP16") {
        out["trt_fp16_enable"] = "1";
      } else if (value == "INT8") {
        out["trt_int8_enable"] = "1";
      } else if (value != "FP32") {
        return InvalidArgument(
            fmt::format("tensorrt precision_mode is '{}'; expected FP32, FP16 or INT8", value));
      }
    } else if (key == "max_workspace_size_bytes") {
      out["trt_max_workspace_size"] = value;
    } else if (key == "int8_calibration_table_name" || key == "int8_use_native_calibration_table") {
      out["trt_" + key] = value;
    } else if (key.starts_with("trt_")) {
      out[key] = value;  // Triton passes the provider's own keys through unchanged
    } else {
      return InvalidArgument(fmt::format("tensorrt accelerator parameter '{}' is not known", key));
    }
  }
  return out;
}

// The CUDA provider's options: device, Triton's older model-level parameters, then the "cuda"
// gpu accelerator's parameters (the provider's own keys).
Result<Options> CudaOptions(const config::ModelConfig& config, const Accelerator* cuda,
                            int gpu_id) {
  Options out{{"device_id", std::to_string(gpu_id)}};
  if (auto v = config::GetParameter(config, "cudnn_conv_algo_search")) {
    static const char* kNames[] = {"EXHAUSTIVE", "HEURISTIC", "DEFAULT"};
    if (*v != "0" && *v != "1" && *v != "2") {
      return InvalidArgument(
          fmt::format("parameter cudnn_conv_algo_search is '{}'; expected 0, 1 or 2", *v));
    }
    out["cudnn_conv_algo_search"] = kNames[(*v)[0] - '0'];
  }
  if (auto v = config::GetParameter(config, "gpu_mem_limit")) out["gpu_mem_limit"] = *v;
  if (auto v = config::GetParameter(config, "arena_extend_strategy")) {
    if (*v != "0" && *v != "1") {
      return InvalidArgument(
          fmt::format("parameter arena_extend_strategy is '{}'; expected 0 or 1", *v));
    }
    out["arena_extend_strategy"] = *v == "0" ? "kNextPowerOfTwo" : "kSameAsRequested";
  }
  if (auto v = config::GetParameter(config, "do_copy_in_default_stream")) {
    out["do_copy_in_default_stream"] = Truthy(*v) ? "1" : "0";
  }
  if (cuda != nullptr) {
    for (const auto& [key, value] : cuda->parameters()) out[key] = value;
  }
  return out;
}

std::string Missing(std::string_view what, std::string_view provider,
                    std::span<const std::string> available) {
  return fmt::format(
      "{} needs ONNX Runtime's {}, which this ONNX Runtime build does not have (it has {}); "
      "build inferd against an ONNX Runtime release with that provider "
      "(-DONNXRUNTIME_ROOT=<release>), or allow a CPU fallback with parameters "
      "{{ key: \"execution_accelerator_fallback\" value: {{ string_value: \"cpu\" }} }}",
      what, provider, fmt::join(available, ", "));
}

}  // namespace

std::string ProviderForAccelerator(std::string_view accelerator, bool gpu_list) {
  if (gpu_list) {
    if (accelerator == "tensorrt") return kTensorRt;
    if (accelerator == "cuda") return kCuda;
    return "";
  }
  if (accelerator == "openvino") return "OpenVINOExecutionProvider";
  if (accelerator == "dnnl") return "DnnlExecutionProvider";
  if (accelerator == "xnnpack") return "XnnpackExecutionProvider";
  return "";
}

Result<ProviderPlan> PlanExecutionProviders(const config::ModelConfig& config, bool on_gpu,
                                            int gpu_id, std::span<const std::string> available) {
  const auto fallback = config::GetParameter(config, "execution_accelerator_fallback");
  if (fallback && *fallback != "cpu" && *fallback != "none") {
    return InvalidArgument(fmt::format(
        "parameter execution_accelerator_fallback is '{}'; expected cpu or none", *fallback));
  }
  const bool may_fall_back = fallback && *fallback == "cpu";
  const auto& accelerators = config.optimization().execution_accelerators();
  ProviderPlan plan;
  plan.on_gpu = on_gpu;

  // Every name is checked, whether or not this instance uses its list.
  for (const bool gpu_list : {true, false}) {
    const auto& list = gpu_list ? accelerators.gpu_execution_accelerator()
                                : accelerators.cpu_execution_accelerator();
    for (const auto& acc : list) {
      if (ProviderForAccelerator(acc.name(), gpu_list).empty()) {
        return InvalidArgument(fmt::format(
            "{}_execution_accelerator '{}' is not known; expected {}", gpu_list ? "gpu" : "cpu",
            acc.name(), gpu_list ? "tensorrt or cuda" : "openvino, dnnl or xnnpack"));
      }
    }
  }

  if (on_gpu && !Has(available, kCuda)) {
    const std::string message =
        Missing(fmt::format("an instance on GPU {} (instance_group kind KIND_GPU)", gpu_id), kCuda,
                available);
    if (!may_fall_back) return Unavailable(message);
    plan.on_gpu = false;
    plan.skipped.push_back(fmt::format("{} (not in this ONNX Runtime build)", kCuda));
  }
  if (plan.on_gpu) {
    const Accelerator* cuda = nullptr;
    for (const auto& acc : accelerators.gpu_execution_accelerator()) {
      if (acc.name() == "cuda") {
        cuda = &acc;
        continue;  // options of the CUDA provider, which follows the listed ones
      }
      if (!Has(available, kTensorRt)) {
        if (!may_fall_back) {
          return Unavailable(Missing("gpu_execution_accelerator 'tensorrt'", kTensorRt, available));
        }
        plan.skipped.push_back(fmt::format("{} (not in this ONNX Runtime build)", kTensorRt));
        continue;
      }
      ASSIGN_OR_RETURN(Options options, TensorRtOptions(acc, gpu_id));
      plan.providers.push_back({kTensorRt, std::move(options)});
    }
    ASSIGN_OR_RETURN(Options options, CudaOptions(config, cuda, gpu_id));
    plan.providers.push_back({kCuda, std::move(options)});
  }
  for (const auto& acc : accelerators.cpu_execution_accelerator()) {
    const std::string provider = ProviderForAccelerator(acc.name(), false);
    if (!Has(available, provider)) {
      if (!may_fall_back) {
        return Unavailable(Missing(fmt::format("cpu_execution_accelerator '{}'", acc.name()),
                                   provider, available));
      }
      plan.skipped.push_back(fmt::format("{} (not in this ONNX Runtime build)", provider));
      continue;
    }
    plan.providers.push_back({provider, Options(acc.parameters().begin(), acc.parameters().end())});
  }
  return plan;
}

}  // namespace inferd::backends::ort
