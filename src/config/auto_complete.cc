#include "config/auto_complete.h"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "config/model_config_queries.h"
#include "config/model_config_validation.h"
#include "config/proto_data_type.h"
#include "core/tensor.h"

namespace inferd::config {
namespace {

using Dims = google::protobuf::RepeatedField<int64_t>;

Status Invalid(std::string_view model_name, std::string_view message) {
  return InvalidArgument(fmt::format("model '{}': {}", model_name, message));
}

const TensorSignature* FindTensor(const std::vector<TensorSignature>& tensors,
                                  std::string_view name) {
  for (const auto& tensor : tensors) {
    if (tensor.name == name) return &tensor;
  }
  return nullptr;
}

// "'a', 'b'" for messages.
std::string QuotedNames(const std::vector<TensorSignature>& tensors) {
  std::vector<std::string> names;
  for (const auto& tensor : tensors) names.push_back(fmt::format("'{}'", tensor.name));
  return fmt::format("{}", fmt::join(names, ", "));
}

bool HasBatchDimension(const TensorSignature& tensor) {
  return !tensor.dims.empty() && tensor.dims.front() == -1;
}

Status CompleteIdentity(ModelConfig& config, std::string_view model_name,
                        const EngineNames& engine) {
  if (config.name().empty()) {
    config.set_name(std::string(model_name));
  } else if (config.name() != model_name) {
    return Invalid(model_name, fmt::format("the config names the model '{}'; the name must "
                                           "match the model directory or be left out",
                                           config.name()));
  }
  if (!config.platform().empty() && config.platform() != engine.platform) {
    return Invalid(model_name, fmt::format("platform '{}' is not supported by backend '{}' "
                                           "(platform '{}')",
                                           config.platform(), engine.backend, engine.platform));
  }
  if (!config.backend().empty() && config.backend() != engine.backend) {
    return Invalid(model_name, fmt::format("backend '{}' does not match the engine that loaded "
                                           "the model (backend '{}')",
                                           config.backend(), engine.backend));
  }
  config.set_platform(std::string(engine.platform));
  config.set_backend(std::string(engine.backend));
  return Status::Ok();
}

// With max_batch_size > 0, every input and every served output needs a leading -1.
Status CheckBatchDimensions(const ModelConfig& config, const ModelSignature& signature) {
  auto check = [&](std::string_view kind, const TensorSignature& tensor) -> Status {
    if (HasBatchDimension(tensor)) return Status::Ok();
    return Invalid(
        config.name(),
        fmt::format("config sets max_batch_size {} but the model file declares {} "
                    "'{}' with shape {}, without a dynamic leading batch dimension; "
                    "use max_batch_size: 0 for a model that does not batch",
                    config.max_batch_size(), kind, tensor.name, ShapeToString(tensor.dims)));
  };
  for (const auto& input : signature.inputs) RETURN_IF_ERROR(check("input", input));
  for (const auto& output : signature.outputs) {
    if (config.output_size() > 0 && FindOutput(config, output.name) == nullptr) continue;
    RETURN_IF_ERROR(check("output", output));
  }
  return Status::Ok();
}

Status CheckModelDataType(std::string_view model_name, std::string_view kind,
                          const TensorSignature& tensor) {
  if (ToProtoDataType(tensor.dtype) != TYPE_INVALID) return Status::Ok();
  return Invalid(model_name, fmt::format("the model file's {} '{}' has an element type that "
                                         "inferd does not support",
                                         kind, tensor.name));
}

template <typename TensorConfig>  // ModelInput or ModelOutput
Status FillTensor(const ModelConfig& config, std::string_view kind, const TensorSignature& model,
                  TensorConfig& tensor) {
  RETURN_IF_ERROR(CheckModelDataType(config.name(), kind, model));
  tensor.set_name(model.name);
  tensor.set_data_type(ToProtoDataType(model.dtype));
  auto first = model.dims.begin();
  if (config.max_batch_size() > 0 && first != model.dims.end()) ++first;
  tensor.mutable_dims()->Assign(first, model.dims.end());
  return Status::Ok();
}

template <typename TensorConfig>  // ModelInput or ModelOutput
Status MatchTensor(const ModelConfig& config, std::string_view kind, const TensorConfig& tensor,
                   const TensorSignature& model) {
  RETURN_IF_ERROR(CheckModelDataType(config.name(), kind, model));
  if (tensor.data_type() != ToProtoDataType(model.dtype)) {
    return Invalid(config.name(),
                   fmt::format("config {} '{}' has data type {} but the model file declares {}",
                               kind, tensor.name(), ProtoDataTypeName(tensor.data_type()),
                               ProtoDataTypeName(ToProtoDataType(model.dtype))));
  }
  // The engine sees the reshaped shape, so that is what must fit the model.
  const Dims& dims = tensor.has_reshape() ? tensor.reshape().shape() : tensor.dims();
  std::vector<int64_t> full = FullDims(config, dims);
  bool fits = full.size() == model.dims.size();
  for (size_t i = 0; fits && i < full.size(); ++i) {
    fits = model.dims[i] == -1 || model.dims[i] == full[i];
  }
  if (fits) return Status::Ok();
  std::string with_batch;
  if (config.max_batch_size() > 0) {
    with_batch = fmt::format(" (shape {} with the batch dimension)", ShapeToString(full));
  }
  return Invalid(config.name(),
                 fmt::format("config {} '{}' has {} {}{} but the model file declares shape {}{}",
                             kind, tensor.name(), tensor.has_reshape() ? "reshape" : "dims",
                             ShapeToString(Shape(dims.begin(), dims.end())), with_batch,
                             ShapeToString(model.dims),
                             full.size() == model.dims.size() ? "" : ", a different rank"));
}

// Inputs the server supplies (the sequence batcher's control inputs and implicit state, the
// padded batcher's lengths) and the state outputs the sequence batcher keeps: the model file
// declares them; the config's input and output lists do not (Triton).
bool SuppliedByServer(const ModelConfig& config, std::string_view name) {
  if (config.has_dynamic_batching() && config.dynamic_batching().has_padding()) {
    const std::string& lengths = config.dynamic_batching().padding().lengths_input();
    return !lengths.empty() && lengths == name;
  }
  if (!config.has_sequence_batching()) return false;
  const auto& batching = config.sequence_batching();
  for (const auto& control : batching.control_input()) {
    if (control.name() == name) return true;
  }
  for (const auto& state : batching.state()) {
    if (state.input_name() == name || state.output_name() == name) return true;
  }
  return false;
}

Status CompleteInputs(ModelConfig& config, const ModelSignature& signature) {
  if (config.input_size() == 0) {
    for (const auto& model_input : signature.inputs) {
      if (SuppliedByServer(config, model_input.name)) continue;
      RETURN_IF_ERROR(FillTensor(config, "input", model_input, *config.add_input()));
    }
    return Status::Ok();
  }
  for (const auto& input : config.input()) {
    const TensorSignature* model_input = FindTensor(signature.inputs, input.name());
    if (model_input == nullptr) {
      return Invalid(config.name(),
                     fmt::format("config input '{}' does not exist in the model file, whose "
                                 "inputs are {}",
                                 input.name(), QuotedNames(signature.inputs)));
    }
    RETURN_IF_ERROR(MatchTensor(config, "input", input, *model_input));
  }
  for (const auto& model_input : signature.inputs) {
    if (SuppliedByServer(config, model_input.name)) continue;
    if (FindInput(config, model_input.name) == nullptr) {
      return Invalid(config.name(), fmt::format("the model file declares input '{}' but the "
                                                "config does not list it; list every input or "
                                                "none",
                                                model_input.name));
    }
  }
  return Status::Ok();
}

Status CompleteOutputs(ModelConfig& config, const ModelSignature& signature) {
  if (config.output_size() == 0) {
    for (const auto& model_output : signature.outputs) {
      if (SuppliedByServer(config, model_output.name)) continue;
      RETURN_IF_ERROR(FillTensor(config, "output", model_output, *config.add_output()));
    }
    return Status::Ok();
  }
  for (const auto& output : config.output()) {
    const TensorSignature* model_output = FindTensor(signature.outputs, output.name());
    if (model_output == nullptr) {
      return Invalid(config.name(),
                     fmt::format("config output '{}' does not exist in the model file, whose "
                                 "outputs are {}",
                                 output.name(), QuotedNames(signature.outputs)));
    }
    RETURN_IF_ERROR(MatchTensor(config, "output", output, *model_output));
  }
  return Status::Ok();
}

void CompleteInstanceGroups(ModelConfig& config) {
  if (config.instance_group_size() == 0) config.add_instance_group();
  for (int i = 0; i < config.instance_group_size(); ++i) {
    ModelInstanceGroup& group = *config.mutable_instance_group(i);
    if (group.name().empty()) group.set_name(fmt::format("{}_{}", config.name(), i));
    if (group.count() == 0) group.set_count(1);
    // Triton's KIND_AUTO runs on CPU when the listed GPUs are not there; here there are none.
    if (group.kind() == ModelInstanceGroup::KIND_AUTO) {
      group.set_kind(ModelInstanceGroup::KIND_CPU);
      group.clear_gpus();
    }
  }
}

void CompleteDefaults(ModelConfig& config) {
  ModelVersionPolicy& policy = *config.mutable_version_policy();
  if (policy.policy_choice_case() == ModelVersionPolicy::POLICY_CHOICE_NOT_SET ||
      (policy.has_latest() && policy.latest().num_versions() == 0)) {
    policy.mutable_latest()->set_num_versions(1);
  }
  for (auto& warmup : *config.mutable_model_warmup()) {
    if (warmup.batch_size() == 0) warmup.set_batch_size(1);
  }
}

}  // namespace

bool IsBatchable(const ModelSignature& signature) {
  if (signature.inputs.empty() && signature.outputs.empty()) return false;
  for (const auto& input : signature.inputs) {
    if (!HasBatchDimension(input)) return false;
  }
  for (const auto& output : signature.outputs) {
    if (!HasBatchDimension(output)) return false;
  }
  return true;
}

Status CompleteAndValidate(ModelConfig& config, const ModelSignature& signature,
                           std::string_view model_name, const EngineNames& engine,
                           int default_max_batch_size) {
  RETURN_IF_ERROR(CompleteIdentity(config, model_name, engine));
  if (config.max_batch_size() < 0) {
    return Invalid(model_name,
                   fmt::format("max_batch_size is {}; it must be >= 0", config.max_batch_size()));
  }
  if (config.input_size() == 0 && config.output_size() == 0 && config.max_batch_size() == 0 &&
      IsBatchable(signature)) {
    config.set_max_batch_size(default_max_batch_size);
  }
  // Check what the config states on its own before comparing it with the model.
  RETURN_IF_ERROR(ValidateModelTensors(config));
  if (config.max_batch_size() > 0) RETURN_IF_ERROR(CheckBatchDimensions(config, signature));
  RETURN_IF_ERROR(CompleteInputs(config, signature));
  RETURN_IF_ERROR(CompleteOutputs(config, signature));
  CompleteInstanceGroups(config);
  CompleteDefaults(config);
  return ValidateModelConfig(config);
}

}  // namespace inferd::config
