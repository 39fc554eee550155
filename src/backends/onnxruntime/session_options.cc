#include "backends/onnxruntime/session_options.h"

#include <fmt/format.h>

#include <charconv>
#include <thread>
#include <unordered_map>

#include "config/model_config.h"

namespace inferd::backends::ort {
namespace {

// A non-negative integer config parameter, or `fallback` when absent.
Result<int> IntParameter(const config::ModelConfig& config, std::string_view key, int fallback) {
  auto v = config::GetParameter(config, key);
  if (!v) return fallback;
  int n = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || ptr != v->data() + v->size() || n < 0) {
    return InvalidArgument(
        fmt::format("parameter {} is '{}'; expected a non-negative integer", key, *v));
  }
  return n;
}

// A 0/1 (or false/true) parameter, or `fallback` when absent.
Result<bool> BoolParameter(const config::ModelConfig& config, std::string_view key, bool fallback) {
  auto v = config::GetParameter(config, key);
  if (!v) return fallback;
  if (*v == "1" || *v == "true" || *v == "True") return true;
  if (*v == "0" || *v == "false" || *v == "False") return false;
  return InvalidArgument(fmt::format("parameter {} is '{}'; expected 0 or 1", key, *v));
}

Result<GraphOptimizationLevel> GraphLevel(const config::ModelConfig& config) {
  if (auto level = config::GetParameter(config, "graph_optimization_level")) {
    if (*level == "disable") return ORT_DISABLE_ALL;
    if (*level == "basic") return ORT_ENABLE_BASIC;
    if (*level == "extended") return ORT_ENABLE_EXTENDED;
    if (*level == "all") return ORT_ENABLE_ALL;
    return InvalidArgument(fmt::format(
        "parameter graph_optimization_level is '{}'; expected disable, basic, extended or all",
        *level));
  }
  // Triton's onnxruntime levels: 0 (unset) all, -1 basic, 1 basic + extended, 2 none.
  switch (config.optimization().graph().level()) {
    case 0:
      return ORT_ENABLE_ALL;
    case -1:
      return ORT_ENABLE_BASIC;
    case 1:
      return ORT_ENABLE_EXTENDED;
    case 2:
      return ORT_DISABLE_ALL;
    default:
      return InvalidArgument(fmt::format(
          "optimization graph level is {}; ONNX Runtime takes -1 (basic), 0 (all, the default), "
          "1 (extended) or 2 (disabled)",
          config.optimization().graph().level()));
  }
}

void Append(Ort::SessionOptions& options, const ExecutionProvider& ep) {
  std::unordered_map<std::string, std::string> map(ep.options.begin(), ep.options.end());
  if (ep.provider == "CUDAExecutionProvider") {
    Ort::CUDAProviderOptions cuda;
    cuda.Update(map);
    options.AppendExecutionProvider_CUDA_V2(*cuda);
  } else if (ep.provider == "TensorrtExecutionProvider") {
    Ort::TensorRTProviderOptions trt;
    trt.Update(map);
    options.AppendExecutionProvider_TensorRT_V2(*trt);
  } else if (ep.provider == "OpenVINOExecutionProvider") {
    options.AppendExecutionProvider_OpenVINO_V2(map);
  } else if (ep.provider == "DnnlExecutionProvider") {
    const OrtApi& api = Ort::GetApi();
    OrtDnnlProviderOptions* dnnl = nullptr;
    Ort::ThrowOnError(api.CreateDnnlProviderOptions(&dnnl));
    std::unique_ptr<OrtDnnlProviderOptions, void (*)(OrtDnnlProviderOptions*)> owner(
        dnnl, api.ReleaseDnnlProviderOptions);
    std::vector<const char*> keys, values;
    for (const auto& [k, v] : ep.options) {
      keys.push_back(k.c_str());
      values.push_back(v.c_str());
    }
    Ort::ThrowOnError(api.UpdateDnnlProviderOptions(dnnl, keys.data(), values.data(), keys.size()));
    options.AppendExecutionProvider_Dnnl(*dnnl);
  } else if (ep.provider == "XnnpackExecutionProvider") {
    options.AppendExecutionProvider("XNNPACK", map);
  }
}

// ORT's messages end in a newline; inferd's are one line.
std::string OneLine(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  return std::string(text);
}

}  // namespace

Result<SessionPlan> ConfigureSession(Ort::SessionOptions& options,
                                     const config::ModelConfig& config,
                                     const InstanceOptions& instance,
                                     std::span<const std::string> available,
                                     const GlobalPools& global) {
  SessionPlan plan;
  ASSIGN_OR_RETURN(plan.intra_op_threads,
                   IntParameter(config, "intra_op_thread_count", instance.intra_op_threads));
  ASSIGN_OR_RETURN(plan.inter_op_threads,
                   IntParameter(config, "inter_op_thread_count", instance.inter_op_threads));
  const bool own_threads = config::GetParameter(config, "intra_op_thread_count").has_value() ||
                           config::GetParameter(config, "inter_op_thread_count").has_value();
  if (global.enabled && !own_threads) {
    // The server's engine budget: one pool for every session, so a model adds no threads.
    options.DisablePerSessionThreads();
    plan.shared_threads = true;
    plan.intra_op_threads = global.intra_op_threads;
    plan.inter_op_threads = 1;
  } else {
    if (plan.intra_op_threads <= 0) {
      plan.intra_op_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    }
    if (plan.inter_op_threads <= 0) plan.inter_op_threads = 1;
    options.SetIntraOpNumThreads(plan.intra_op_threads);
    options.SetInterOpNumThreads(plan.inter_op_threads);
  }
  // Triton: execution_mode 0 sequential (default), 1 parallel. Without it, inferd runs the
  // graph in parallel only when more than one inter-op thread was asked for.
  ASSIGN_OR_RETURN(int mode,
                   IntParameter(config, "execution_mode", plan.inter_op_threads > 1 ? 1 : 0));
  if (mode > 1) {
    return InvalidArgument(fmt::format(
        "parameter execution_mode is '{}'; expected 0 (sequential) or 1 (parallel)", mode));
  }
  options.SetExecutionMode(mode == 1 ? ORT_PARALLEL : ORT_SEQUENTIAL);
  ASSIGN_OR_RETURN(bool spin, BoolParameter(config, "enable_thread_spinning", false));
  options.AddConfigEntry("session.intra_op.allow_spinning", spin ? "1" : "0");
  options.AddConfigEntry("session.inter_op.allow_spinning", spin ? "1" : "0");
  ASSIGN_OR_RETURN(GraphOptimizationLevel level, GraphLevel(config));
  options.SetGraphOptimizationLevel(level);
  ASSIGN_OR_RETURN(bool arena, BoolParameter(config, "enable_mem_arena", true));
  if (arena) {
    options.EnableCpuMemArena();
  } else {
    options.DisableCpuMemArena();
  }
  ASSIGN_OR_RETURN(bool pattern, BoolParameter(config, "enable_mem_pattern", true));
  if (pattern) {
    options.EnableMemPattern();
  } else {
    options.DisableMemPattern();
  }
  ASSIGN_OR_RETURN(bool device_init,
                   BoolParameter(config, "session.use_device_allocator_for_initializers", false));
  if (device_init) options.AddConfigEntry("session.use_device_allocator_for_initializers", "1");
  plan.arena_shrinkage =
      config::GetParameter(config, "memory.enable_memory_arena_shrinkage").value_or("");

  ASSIGN_OR_RETURN(plan.providers,
                   PlanExecutionProviders(config, instance.on_gpu, instance.gpu_id, available));
  const bool may_fall_back =
      config::GetParameter(config, "execution_accelerator_fallback").value_or("") == "cpu";
  std::vector<ExecutionProvider> started;
  for (const auto& ep : plan.providers.providers) {
    try {
      Append(options, ep);
      started.push_back(ep);
    } catch (const Ort::Exception& e) {
      if (may_fall_back) {
        plan.providers.skipped.push_back(fmt::format("{} ({})", ep.provider, OneLine(e.what())));
        continue;
      }
      // GetAvailableProviders lists what the build can load, not what this machine can run:
      // the provider's own library (libonnxruntime_providers_<name>.so) and its runtime (CUDA,
      // TensorRT, OpenVINO) must be there too.
      return Unavailable(fmt::format(
          "ONNX Runtime could not start {}: {} (this ONNX Runtime build lists {}; a listed "
          "provider also needs its libonnxruntime_providers_*.so and its runtime on the "
          "machine)",
          ep.provider, OneLine(e.what()), fmt::join(available, ", ")));
    }
  }
  plan.providers.providers = std::move(started);
  return plan;
}

}  // namespace inferd::backends::ort
