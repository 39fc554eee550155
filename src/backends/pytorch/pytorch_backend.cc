#include "backends/pytorch/pytorch_backend.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>
#include <torch/version.h>

#include <charconv>
#include <chrono>
#include <cstring>
#include <thread>

#include "backends/pytorch/tensor_mapping.h"
#include "config/model_config.h"
#include "core/duration.h"

namespace inferd::backends {
namespace {

namespace mapping = torch_mapping;

std::optional<at::ScalarType> ToTorchType(DataType t) {
  switch (t) {
    case DataType::kBool:
      return at::kBool;
    case DataType::kUint8:
      return at::kByte;
    case DataType::kInt8:
      return at::kChar;
    case DataType::kInt16:
      return at::kShort;
    case DataType::kInt32:
      return at::kInt;
    case DataType::kInt64:
      return at::kLong;
    case DataType::kFp16:
      return at::kHalf;
    case DataType::kBf16:
      return at::kBFloat16;
    case DataType::kFp32:
      return at::kFloat;
    case DataType::kFp64:
      return at::kDouble;
    default:
      return std::nullopt;
  }
}

DataType FromTorchType(at::ScalarType t) {
  switch (t) {
    case at::kBool:
      return DataType::kBool;
    case at::kByte:
      return DataType::kUint8;
    case at::kChar:
      return DataType::kInt8;
    case at::kShort:
      return DataType::kInt16;
    case at::kInt:
      return DataType::kInt32;
    case at::kLong:
      return DataType::kInt64;
    case at::kHalf:
      return DataType::kFp16;
    case at::kBFloat16:
      return DataType::kBf16;
    case at::kFloat:
      return DataType::kFp32;
    case at::kDouble:
      return DataType::kFp64;
    default:
      return DataType::kInvalid;
  }
}

bool Truthy(const std::string& v) { return v == "1" || v == "true" || v == "True"; }

// The TorchScript interpreter's errors carry a traceback of the model's code; the cause is the
// last line ("RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x8 and 64x128)").
std::string Cause(std::string_view what) {
  while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.remove_suffix(1);
  const size_t nl = what.rfind('\n');
  return std::string(nl == std::string_view::npos ? what : what.substr(nl + 1));
}

// The signature a TorchScript file cannot give: the config's own tensors, with the batch dim.
config::ModelSignature SignatureFromConfig(const config::ModelConfig& cfg) {
  config::ModelSignature sig;
  auto full = [&](const auto& tensor) {
    config::TensorSignature t{tensor.name(), config::FromProtoDataType(tensor.data_type()), {}};
    if (cfg.max_batch_size() > 0) t.dims.push_back(-1);
    const auto& dims = tensor.has_reshape() ? tensor.reshape().shape() : tensor.dims();
    t.dims.insert(t.dims.end(), dims.begin(), dims.end());
    return t;
  };
  for (const auto& in : cfg.input()) sig.inputs.push_back(full(in));
  for (const auto& out : cfg.output()) sig.outputs.push_back(full(out));
  return sig;
}

struct InstanceSetup {
  std::vector<int> input_positions;  // config input i -> forward() argument
  // One value per forward() argument: its default, or None for those an input always feeds.
  std::vector<c10::IValue> argument_defaults;
  std::vector<std::string> output_names;  // config outputs, in config order
  std::vector<int> output_indices;        // config output i -> forward() output element
  int intra_op_threads = 1;
  bool inference_mode = true;
  bool optimized_execution = true;
};

class PyTorchInstance final : public ModelInstance {
 public:
  PyTorchInstance(torch::jit::Module module, config::ModelSignature signature, InstanceSetup setup)
      : module_(std::move(module)), signature_(std::move(signature)), setup_(std::move(setup)) {}

  const config::ModelSignature& signature() const override { return signature_; }

  Result<std::vector<Tensor>> Execute(std::span<const Tensor> inputs,
                                      std::span<const std::string> output_names,
                                      ExecutionTimings* timings) override {
    try {
      return Run(inputs, output_names, timings);
    } catch (const c10::Error& e) {
      return Internal(fmt::format("pytorch: {}", Cause(e.what_without_backtrace())));
    } catch (const std::exception& e) {  // torch::jit::JITException from the interpreter
      return Internal(fmt::format("pytorch: {}", Cause(e.what())));
    }
  }

 private:
  Result<std::vector<Tensor>> Run(std::span<const Tensor> inputs,
                                  std::span<const std::string> output_names,
                                  ExecutionTimings* timings) {
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    // ATen's intra-op pool (OpenMP) is sized per calling thread: each worker thread sets its
    // instance's share of the CPU budget once.
    thread_local int threads_set = 0;
    if (threads_set != setup_.intra_op_threads) {
      at::set_num_threads(setup_.intra_op_threads);
      threads_set = setup_.intra_op_threads;
    }
    std::vector<c10::IValue> args = setup_.argument_defaults;
    std::vector<std::vector<uint64_t>> scratch;  // aligned copies of misaligned inputs
    std::vector<at::Tensor> borrowed;
    for (const Tensor& in : inputs) RETURN_IF_ERROR(BindInput(in, args, scratch, borrowed));

    const auto t1 = Clock::now();
    c10::IValue result;
    {
      c10::InferenceMode inference(setup_.inference_mode);
      torch::NoGradGuard no_grad;
      torch::jit::GraphOptimizerEnabledGuard optimize(setup_.optimized_execution);
      result = module_.forward(std::move(args));
    }
    const auto t2 = Clock::now();

    ASSIGN_OR_RETURN(std::vector<c10::IValue> elements, Elements(result));
    std::vector<Tensor> outputs;
    outputs.reserve(output_names.size());
    for (const auto& name : output_names) {
      ASSIGN_OR_RETURN(Tensor t, TakeOutput(name, elements, borrowed));
      outputs.push_back(std::move(t));
    }
    if (timings) {
      timings->input_ns = ToNanos(t1 - t0);
      timings->infer_ns = ToNanos(t2 - t1);
      timings->output_ns = ToNanos(Clock::now() - t2);
    }
    return outputs;
  }

  // Puts input `in` at its argument position in `args`, as a tensor over the request's bytes
  // (or an aligned copy of them in `scratch`), kept in `borrowed`.
  Status BindInput(const Tensor& in, std::vector<c10::IValue>& args,
                   std::vector<std::vector<uint64_t>>& scratch,
                   std::vector<at::Tensor>& borrowed) {
    int slot = -1;
    for (size_t i = 0; i < signature_.inputs.size(); ++i) {
      if (signature_.inputs[i].name == in.name()) slot = static_cast<int>(i);
    }
    if (slot < 0) return InvalidArgument(fmt::format("unexpected input '{}'", in.name()));
    auto type = ToTorchType(in.dtype());
    if (!type) {
      return InvalidArgument(fmt::format("input '{}' has data type {}, which libtorch lacks",
                                         in.name(), DataTypeName(in.dtype())));
    }
    auto* data = const_cast<std::byte*>(in.data().data());
    const size_t align = std::max<size_t>(1, DataTypeByteSize(in.dtype()));
    if (reinterpret_cast<uintptr_t>(data) % align != 0) {
      auto& copy = scratch.emplace_back((in.byte_size() + 7) / 8);
      std::memcpy(copy.data(), data, in.byte_size());
      data = reinterpret_cast<std::byte*>(copy.data());
    }
    // Borrowed, not copied: the request's bytes live until Execute returns, and outputs that
    // alias an input are copied out (FromTorch).
    borrowed.push_back(
        torch::from_blob(data, std::vector<int64_t>(in.shape().begin(), in.shape().end()),
                         torch::TensorOptions().dtype(*type)));
    args[setup_.input_positions[slot]] = borrowed.back();
    return Status::Ok();
  }

  // What forward() returned, as a list: a tensor, or a tuple's or list's elements.
  static Result<std::vector<c10::IValue>> Elements(const c10::IValue& result) {
    std::vector<c10::IValue> elements;
    if (result.isTensor()) {
      elements.push_back(result);
    } else if (result.isTuple()) {
      for (const auto& e : result.toTupleRef().elements()) elements.push_back(e);
    } else if (result.isList()) {
      for (const auto& e : result.toListRef()) elements.push_back(e);
    } else {
      return Internal(
          fmt::format("forward() returned {}; expected a tensor, or a tuple or list "
                      "of tensors",
                      result.tagKind()));
    }
    return elements;
  }

  // Output `name`: the element of forward()'s result the config maps it to, as a tensor of the
  // declared datatype.
  Result<Tensor> TakeOutput(const std::string& name, const std::vector<c10::IValue>& elements,
                            const std::vector<at::Tensor>& borrowed) {
    int index = -1;
    for (size_t i = 0; i < setup_.output_names.size(); ++i) {
      if (setup_.output_names[i] == name) index = setup_.output_indices[i];
    }
    if (index < 0) return InvalidArgument(fmt::format("unknown output '{}'", name));
    if (index >= static_cast<int>(elements.size())) {
      return Internal(
          fmt::format("output '{}' is element {} of what forward() returned, "
                      "which has {} element(s)",
                      name, index, elements.size()));
    }
    if (!elements[index].isTensor()) {
      return Internal(
          fmt::format("output '{}' (element {} of what forward() returned) is {}, "
                      "not a tensor",
                      name, index, elements[index].tagKind()));
    }
    ASSIGN_OR_RETURN(Tensor t, FromTorch(name, elements[index].toTensor(), borrowed));
    for (const auto& declared : signature_.outputs) {
      if (declared.name == name && declared.dtype != t.dtype()) {
        return Internal(fmt::format("output '{}' is {} but the config declares {}", name,
                                    DataTypeName(t.dtype()), DataTypeName(declared.dtype)));
      }
    }
    return t;
  }

  // `borrowed`: the tensors made over request bytes (or their aligned copies), which die when
  // Execute returns.
  Result<Tensor> FromTorch(const std::string& name, at::Tensor t,
                           const std::vector<at::Tensor>& borrowed) {
    if (!t.device().is_cpu()) t = t.cpu();
    if (!t.is_contiguous()) t = t.contiguous();
    // An identity model returns (a view of) its input: copy it out.
    for (const auto& b : borrowed) {
      if (t.is_alias_of(b)) {
        t = t.clone();
        break;
      }
    }
    const DataType dtype = FromTorchType(t.scalar_type());
    if (dtype == DataType::kInvalid) {
      return Internal(fmt::format("output '{}' has torch type {}, which inferd does not serve",
                                  name, c10::toString(t.scalar_type())));
    }
    Tensor out(name, dtype, Shape(t.sizes().begin(), t.sizes().end()));
    const size_t bytes = static_cast<size_t>(t.numel()) * DataTypeByteSize(dtype);
    auto owner = std::make_shared<at::Tensor>(std::move(t));
    out.SetData({static_cast<const std::byte*>(owner->data_ptr()), bytes}, owner);
    return out;
  }

  torch::jit::Module module_;
  config::ModelSignature signature_;
  InstanceSetup setup_;
};

class PyTorchBackend final : public Backend {
 public:
  PyTorchBackend() {
    // One inter-op thread for the process (set once, before any model runs): inferd
    // parallelizes across requests with instances, not inside one forward().
    try {
      at::set_num_interop_threads(1);
    } catch (const c10::Error&) {
      // already set by an earlier backend in this process (tests): keep it
    }
  }

  std::string_view name() const override { return "pytorch"; }
  std::string_view platform() const override { return "pytorch_libtorch"; }
  std::string_view default_model_filename() const override { return "model.pt"; }
  std::string version() const override {
    return fmt::format("{}.{}.{}", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH);
  }

  Result<std::unique_ptr<ModelInstance>> CreateInstance(const std::filesystem::path& model_file,
                                                        const config::ModelConfig& config,
                                                        const InstanceOptions& options) override {
    if (options.on_gpu) {
      return Unavailable(
          fmt::format("backend 'pytorch' runs on the CPU only (Debian's libtorch "
                      "has no CUDA); instance_group kind KIND_GPU on GPU {} cannot "
                      "be placed",
                      options.gpu_id));
    }
    RETURN_IF_ERROR(mapping::CheckTorchConfig(
        config, model_file.parent_path().parent_path().filename().string()));
    try {
      return Create(model_file, config, options);
    } catch (const c10::Error& e) {
      return InvalidArgument(fmt::format("pytorch could not load '{}': {}", model_file.string(),
                                         Cause(e.what_without_backtrace())));
    } catch (const std::exception& e) {
      return InvalidArgument(
          fmt::format("pytorch could not load '{}': {}", model_file.string(), Cause(e.what())));
    }
  }

  Status CompleteConfig(config::ModelConfig& config, const config::ModelSignature& signature,
                        std::string_view model_name) const override {
    RETURN_IF_ERROR(mapping::CheckTorchConfig(config, model_name));
    return Backend::CompleteConfig(config, signature, model_name);
  }

 private:
  Result<std::unique_ptr<ModelInstance>> Create(const std::filesystem::path& model_file,
                                                const config::ModelConfig& config,
                                                const InstanceOptions& options) {
    InstanceSetup setup;
    setup.intra_op_threads = std::max(1, options.intra_op_threads);
    if (auto v = config::GetParameter(config, "INTRA_OP_THREAD_COUNT")) {
      int n = 0;
      auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
      if (ec != std::errc() || ptr != v->data() + v->size() || n < 0) {
        return InvalidArgument(fmt::format(
            "parameter INTRA_OP_THREAD_COUNT is '{}'; expected a non-negative integer", *v));
      }
      if (n > 0) setup.intra_op_threads = n;
    }
    setup.inference_mode = Truthy(config::GetParameter(config, "INFERENCE_MODE").value_or("true"));
    setup.optimized_execution =
        !Truthy(config::GetParameter(config, "DISABLE_OPTIMIZED_EXECUTION").value_or("false"));

    torch::jit::Module module = torch::jit::load(model_file.string(), c10::Device(c10::kCPU));
    module.eval();
    const auto& schema = module.get_method("forward").function().getSchema();
    std::vector<std::string> arguments;
    size_t required = 0;
    for (size_t i = 1; i < schema.arguments().size(); ++i) {  // 0 is self
      const auto& arg = schema.arguments()[i];
      arguments.push_back(arg.name());
      setup.argument_defaults.push_back(arg.default_value().value_or(c10::IValue()));
      if (!arg.default_value()) required = arguments.size();
    }
    ASSIGN_OR_RETURN(setup.input_positions, mapping::MapInputs(config, arguments, required));
    ASSIGN_OR_RETURN(setup.output_indices, mapping::MapOutputs(config));
    for (const auto& out : config.output()) setup.output_names.push_back(out.name());
    auto instance = std::make_unique<PyTorchInstance>(
        std::move(module), SignatureFromConfig(config), std::move(setup));
    return std::unique_ptr<ModelInstance>(std::move(instance));
  }
};

}  // namespace

Result<std::unique_ptr<Backend>> CreatePyTorchBackend() {
  try {
    return std::unique_ptr<Backend>(std::make_unique<PyTorchBackend>());
  } catch (const std::exception& e) {
    return Internal(fmt::format("pytorch failed to start: {}", e.what()));
  }
}

BackendFactory PyTorchBackendFactory() {
  return {"pytorch", "pytorch_libtorch", "model.pt", CreatePyTorchBackend};
}

}  // namespace inferd::backends
