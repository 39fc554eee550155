// The engine seam: a Backend turns a model file into ModelInstances, and a ModelInstance runs
// one (possibly batched) set of input tensors. The repository picks a Backend per model from
// the BackendRegistry (backend_registry.h), creates instances at load time and has the backend
// complete the model's config; the scheduler's worker threads call Execute. Engines' own
// exceptions never cross this seam, and nothing above it names a concrete engine.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/model_config.pb.h"
#include "config/model_signature.h"
#include "core/status.h"
#include "core/tensor.h"

namespace inferd::backends {

// Where one Execute call spent its time, in nanoseconds.
struct ExecutionTimings {
  uint64_t input_ns = 0;   // handing inputs to the engine
  uint64_t infer_ns = 0;   // the engine run itself
  uint64_t output_ns = 0;  // collecting outputs from the engine
};

// What a run knows of the requests it serves, for engines that pass it on to other servers
// (remote steps); other engines ignore it.
struct ExecutionContext {
  // The earliest deadline among the batch's requests; max(): none.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // The W3C trace context of the batch's first request; empty: none.
  std::string_view traceparent = {};
};

// One engine session. Not thread-safe: each instance is driven by one worker thread at a time.
class ModelInstance {
 public:
  virtual ~ModelInstance() = default;

  // Inputs and outputs as the model file declares them (before config auto-complete).
  virtual const config::ModelSignature& signature() const = 0;

  // Runs the model. `inputs` have been checked against the model config by the caller (names,
  // dtypes, shapes, byte sizes). Returns the outputs named in `output_names`, in that order.
  // `timings`, if not null, receives the stage durations.
  virtual Result<std::vector<Tensor>> Execute(std::span<const Tensor> inputs,
                                              std::span<const std::string> output_names,
                                              ExecutionTimings* timings) = 0;
  // Execute for requests described by `context` (the scheduler's call). The default ignores
  // the context.
  virtual Result<std::vector<Tensor>> ExecuteWithContext(std::span<const Tensor> inputs,
                                                         std::span<const std::string> output_names,
                                                         const ExecutionContext& context,
                                                         ExecutionTimings* timings) {
    (void)context;
    return Execute(inputs, output_names, timings);
  }
};

struct InstanceOptions {
  // Engine threads for one operator (intra-op) and across operators (inter-op); 0 = backend
  // default. The repository chooses these so all instances together fit the machine's cores.
  int intra_op_threads = 0;
  int inter_op_threads = 0;
  // Where the instance runs: on the CPU, or on GPU `gpu_id` (an instance_group of KIND_GPU).
  // A backend that cannot place it there fails CreateInstance with a message saying so.
  bool on_gpu = false;
  int gpu_id = 0;
};

// Server-wide settings an engine is configured with once, before its first model.
struct BackendSettings {
  // The server's CPU budget for engine threads (--cpu-threads; >= 1). An engine that can share
  // one thread pool among all its sessions (ONNX Runtime's global pools, libtorch's process-wide
  // pool) sizes that pool to this, so loading more models adds no engine threads.
  int engine_threads = 1;
  // Triton's --backend-config entries for this engine, global ones (no backend named) included;
  // key -> value. Unknown keys are the engine's to ignore.
  std::map<std::string, std::string, std::less<>> config;

  // The max_batch_size auto-complete gives batchable models ("default-max-batch-size", as in
  // Triton; 4 when unset).
  int default_max_batch_size() const;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Called once by the registry right after the engine is created, before any model uses it.
  // The default keeps `settings` for settings(); engines with process-wide state (thread
  // pools) set it up here. INVALID_ARGUMENT for a setting the engine cannot take.
  virtual Status Configure(const BackendSettings& settings);
  const BackendSettings& settings() const { return settings_; }

  // "onnxruntime": the value of `backend` in config.pbtxt.
  virtual std::string_view name() const = 0;
  // "onnxruntime_onnx": the value of `platform` in config.pbtxt.
  virtual std::string_view platform() const = 0;
  // File name looked up in a version folder when the config names none ("model.onnx").
  virtual std::string_view default_model_filename() const = 0;
  // Engine version, for logs and server metadata.
  virtual std::string version() const = 0;

  // Loads `model_file` into a new engine session. `config` may be incomplete (it is completed
  // from the first instance's signature); only engine options are read from it.
  virtual Result<std::unique_ptr<ModelInstance>> CreateInstance(
      const std::filesystem::path& model_file, const config::ModelConfig& config,
      const InstanceOptions& options) = 0;

  // Auto-complete and validation for this engine, run once per load on the first instance's
  // signature. The default applies Triton's generic rules (config::CompleteAndValidate with
  // this backend's names) and rejects KIND_GPU groups unless supports_gpu(); engines whose
  // model files do not declare everything (TorchScript) add their own rules.
  virtual Status CompleteConfig(config::ModelConfig& config,
                                const config::ModelSignature& signature,
                                std::string_view model_name) const;

  // Whether this backend, as built, can place instances on GPUs at all.
  virtual bool supports_gpu() const { return false; }

 private:
  BackendSettings settings_;
};

}  // namespace inferd::backends
