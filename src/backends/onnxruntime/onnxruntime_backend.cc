#include "backends/onnxruntime/onnxruntime_backend.h"

#include <fmt/format.h>
#include <onnxruntime_cxx_api.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <optional>

#include "backends/onnxruntime/onnxruntime_instance.h"
#include "backends/onnxruntime/session_options.h"
#include "config/model_config.h"

namespace inferd::backends {
namespace {

class OnnxRuntimeBackend final : public Backend {
 public:
  OnnxRuntimeBackend() : available_(Ort::GetAvailableProviders()) {}

  // Creates the ONNX Runtime environment. With the global thread pools (the default; Triton's
  // --backend-config=onnxruntime,enable-global-threadpool=0 turns them off) every session
  // shares one intra-op pool of the server's engine budget (or
  // onnxruntime,intra_op_thread_count=N), so N loaded models do not start N pools.
  Status Configure(const BackendSettings& settings) override {
    RETURN_IF_ERROR(Backend::Configure(settings));
    const auto& config = settings.config;
    bool global = true;
    if (auto it = config.find("enable-global-threadpool"); it != config.end()) {
      if (it->second != "0" && it->second != "1") {
        return InvalidArgument(fmt::format(
            "onnxruntime enable-global-threadpool is '{}'; expected 0 or 1", it->second));
      }
      global = it->second == "1";
    }
    int threads = std::max(1, settings.engine_threads);
    if (auto it = config.find("intra_op_thread_count"); it != config.end()) {
      const std::string& v = it->second;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), threads);
      if (ec != std::errc() || ptr != v.data() + v.size() || threads < 1) {
        return InvalidArgument(
            fmt::format("onnxruntime intra_op_thread_count is '{}'; expected an integer >= 1", v));
      }
    }
    try {
      if (global) {
        Ort::ThreadingOptions threading;
        threading.SetGlobalIntraOpNumThreads(threads);
        threading.SetGlobalInterOpNumThreads(1);
        threading.SetGlobalSpinControl(0);  // idle engine threads sleep: the I/O threads need the cores
        env_.emplace(threading, ORT_LOGGING_LEVEL_WARNING, "inferd");
        global_ = {true, threads};
        spdlog::info("onnxruntime: one intra-op pool of {} thread(s) shared by every session",
                     threads);
      } else {
        env_.emplace(ORT_LOGGING_LEVEL_WARNING, "inferd");
      }
    } catch (const Ort::Exception& e) {
      return Internal(fmt::format("onnxruntime failed to start: {}", e.what()));
    }
    return Status::Ok();
  }

  std::string_view name() const override { return "onnxruntime"; }
  std::string_view platform() const override { return "onnxruntime_onnx"; }
  std::string_view default_model_filename() const override { return "model.onnx"; }
  std::string version() const override { return Ort::GetVersionString(); }
  // Whether an instance may go on a GPU is decided per instance by the provider plan, which
  // names the missing provider when this build has none.
  bool supports_gpu() const override { return true; }

  Result<std::unique_ptr<ModelInstance>> CreateInstance(const std::filesystem::path& model_file,
                                                        const config::ModelConfig& config,
                                                        const InstanceOptions& options) override {
    try {
      return Create(model_file, config, options);
    } catch (const Ort::Exception& e) {
      return InvalidArgument(
          fmt::format("onnxruntime could not load '{}': {}", model_file.string(), e.what()));
    }
  }

 private:
  Result<std::unique_ptr<ModelInstance>> Create(const std::filesystem::path& model_file,
                                                const config::ModelConfig& config,
                                                const InstanceOptions& options) {
    if (!env_) RETURN_IF_ERROR(Configure(settings()));  // created without a registry
    Ort::SessionOptions so;
    ASSIGN_OR_RETURN(ort::SessionPlan plan,
                     ort::ConfigureSession(so, config, options, available_, global_));
    if (!plan.providers.skipped.empty()) {
      spdlog::warn("'{}': execution_accelerator_fallback cpu: left out {}", model_file.string(),
                   fmt::join(plan.providers.skipped, ", "));
    }
    if (!plan.providers.providers.empty()) {
      std::vector<std::string> names;
      for (const auto& ep : plan.providers.providers) names.push_back(ep.provider);
      spdlog::info("'{}': execution providers {}, then CPUExecutionProvider", model_file.string(),
                   fmt::join(names, ", "));
    }

    Ort::Session session(*env_, model_file.c_str(), so);
    Ort::AllocatorWithDefaultOptions allocator;
    config::ModelSignature sig;
    for (size_t i = 0; i < session.GetInputCount(); ++i) {
      std::string n = session.GetInputNameAllocated(i, allocator).get();
      ASSIGN_OR_RETURN(auto t, ort::ReadTensorSignature(n, session.GetInputTypeInfo(i)));
      sig.inputs.push_back(std::move(t));
    }
    for (size_t i = 0; i < session.GetOutputCount(); ++i) {
      std::string n = session.GetOutputNameAllocated(i, allocator).get();
      ASSIGN_OR_RETURN(auto t, ort::ReadTensorSignature(n, session.GetOutputTypeInfo(i)));
      sig.outputs.push_back(std::move(t));
    }
    return ort::MakeInstance(std::move(session), std::move(sig), plan.arena_shrinkage);
  }

  std::optional<Ort::Env> env_;  // made by Configure
  ort::GlobalPools global_;
  const std::vector<std::string> available_;  // execution providers this ORT build has
};

}  // namespace

Result<std::unique_ptr<Backend>> CreateOnnxRuntimeBackend() {
  try {
    return std::unique_ptr<Backend>(std::make_unique<OnnxRuntimeBackend>());
  } catch (const Ort::Exception& e) {
    return Internal(fmt::format("onnxruntime failed to start: {}", e.what()));
  }
}

BackendFactory OnnxRuntimeBackendFactory() {
  return {"onnxruntime", "onnxruntime_onnx", "model.onnx", CreateOnnxRuntimeBackend};
}

std::vector<std::string> OnnxRuntimeAvailableProviders() {
  try {
    return Ort::GetAvailableProviders();
  } catch (const Ort::Exception&) {
    return {};
  }
}

}  // namespace inferd::backends
