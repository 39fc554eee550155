#include "config/model_config_validation.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "config/proto_data_type.h"
#include "core/tensor.h"

namespace inferd::config {
namespace {

Status Invalid(const ModelConfig& config, std::string_view message) {
  return InvalidArgument(fmt::format("model '{}': {}", config.name(), message));
}

std::string DimsToString(const google::protobuf::RepeatedField<int64_t>& dims) {
  return ShapeToString(Shape(dims.begin(), dims.end()));
}

bool IsValidDataType(config::DataType t) { return t != TYPE_INVALID && DataType_IsValid(t); }

// -1 for a variable shape; the element count otherwise.
int64_t FixedElementCount(const google::protobuf::RepeatedField<int64_t>& dims) {
  return ElementCount(Shape(dims.begin(), dims.end()));
}

// `what` is e.g. "config input 'x'".
Status ValidateDims(const ModelConfig& config, std::string_view what, std::string_view field,
                    const google::protobuf::RepeatedField<int64_t>& dims) {
  for (int64_t dim : dims) {
    // 0 is a real size: ONNX models declare zero-sized tensors (an empty `axes` input).
    if (dim < 0 && dim != -1) {
      return Invalid(config, fmt::format("{} has {} {}; each dimension must be >= 0, or -1 for a "
                                         "variable size",
                                         what, field, DimsToString(dims)));
    }
  }
  return Status::Ok();
}

template <typename TensorConfig>  // ModelInput or ModelOutput
Status ValidateTensor(const ModelConfig& config, std::string_view kind,
                      const TensorConfig& tensor) {
  if (tensor.name().empty()) return Invalid(config, fmt::format("a config {} has no name", kind));
  std::string what = fmt::format("config {} '{}'", kind, tensor.name());
  if (!IsValidDataType(tensor.data_type())) {
    return Invalid(config, fmt::format("{} has no valid data_type", what));
  }
  RETURN_IF_ERROR(ValidateDims(config, what, "dims", tensor.dims()));
  if (tensor.has_reshape()) {
    RETURN_IF_ERROR(ValidateDims(config, what, "reshape", tensor.reshape().shape()));
    int64_t count = FixedElementCount(tensor.dims());
    int64_t reshaped = FixedElementCount(tensor.reshape().shape());
    if (count >= 0 && reshaped >= 0 && count != reshaped) {
      return Invalid(config, fmt::format("{} has dims {} ({} elements) but reshape {} ({} "
                                         "elements); a reshape must keep the element count",
                                         what, DimsToString(tensor.dims()), count,
                                         DimsToString(tensor.reshape().shape()), reshaped));
    }
  }
  if (tensor.is_shape_tensor()) {
    return Invalid(config, fmt::format("{} sets is_shape_tensor, which only TensorRT models "
                                       "support",
                                       what));
  }
  return Status::Ok();
}

// A file name inside the model directory: relative, and never climbing out of it.
Status ValidateRelativeFile(const ModelConfig& config, std::string_view what,
                            const std::string& name) {
  std::filesystem::path path(name);
  bool climbs =
      std::any_of(path.begin(), path.end(), [](const auto& part) { return part == ".."; });
  if (name.empty() || path.is_absolute() || climbs) {
    return Invalid(config, fmt::format("{} '{}' must be a relative path inside the model "
                                       "directory",
                                       what, name));
  }
  return Status::Ok();
}

// The one variable dimension (-1) of `dims`, or -1 when there is none or more than one.
int VariableDim(const google::protobuf::RepeatedField<int64_t>& dims) {
  int found = -1;
  for (int i = 0; i < dims.size(); ++i) {
    if (dims[i] != -1) continue;
    if (found >= 0) return -1;
    found = i;
  }
  return found;
}

Status ValidatePadding(const ModelConfig& config) {
  const ModelPaddedBatching& padding = config.dynamic_batching().padding();
  if (padding.input().empty()) {
    return Invalid(config, "dynamic_batching padding lists no input to pad");
  }
  for (const auto& padded : padding.input()) {
    const ModelInput* input = nullptr;
    for (const auto& in : config.input()) {
      if (in.name() == padded.name()) input = &in;
    }
    if (input == nullptr) {
      return Invalid(config, fmt::format("dynamic_batching padding input '{}' is not a config "
                                         "input",
                                         padded.name()));
    }
    if (input->data_type() == TYPE_STRING || input->data_type() == TYPE_BOOL) {
      return Invalid(config, fmt::format("dynamic_batching padding input '{}' is {}; only "
                                         "numeric inputs can be padded",
                                         padded.name(), DataType_Name(input->data_type())));
    }
    if (input->has_reshape() || VariableDim(input->dims()) < 0) {
      return Invalid(config, fmt::format("dynamic_batching padding input '{}' has dims {}; a "
                                         "padded input needs exactly one -1 (its length) and no "
                                         "reshape",
                                         padded.name(), DimsToString(input->dims())));
    }
  }
  int64_t previous = 0;
  for (int64_t bucket : padding.length_buckets()) {
    if (bucket <= previous) {
      return Invalid(config, fmt::format("dynamic_batching padding length_buckets must be "
                                         "positive and ascending; {} follows {}",
                                         bucket, previous));
    }
    previous = bucket;
  }
  if (padding.length_buckets().empty()) {
    return Invalid(config, "dynamic_batching padding needs length_buckets");
  }
  if (!padding.lengths_input().empty()) {
    for (const auto& in : config.input()) {
      if (in.name() == padding.lengths_input()) {
        return Invalid(config, fmt::format("dynamic_batching padding lengths_input '{}' is fed "
                                           "by the server and must not be a config input",
                                           in.name()));
      }
    }
    const DataType type = padding.lengths_data_type();
    if (type != TYPE_INVALID && type != TYPE_INT32 && type != TYPE_INT64) {
      return Invalid(config, fmt::format("dynamic_batching padding lengths_data_type must be "
                                         "TYPE_INT32 or TYPE_INT64, not {}",
                                         DataType_Name(type)));
    }
  }
  for (const auto& name : padding.output()) {
    const ModelOutput* output = nullptr;
    for (const auto& out : config.output()) {
      if (out.name() == name) output = &out;
    }
    if (output == nullptr) {
      return Invalid(config, fmt::format("dynamic_batching padding output '{}' is not a config "
                                         "output",
                                         name));
    }
    if (output->data_type() == TYPE_STRING || output->has_reshape() ||
        VariableDim(output->dims()) < 0) {
      return Invalid(config, fmt::format("dynamic_batching padding output '{}' has dims {}; an "
                                         "output cut back to each request's length needs exactly "
                                         "one -1, a numeric type and no reshape",
                                         name, DimsToString(output->dims())));
    }
  }
  return Status::Ok();
}

Status ValidateDynamicBatching(const ModelConfig& config) {
  if (!config.has_dynamic_batching()) return Status::Ok();
  const ModelDynamicBatching& batching = config.dynamic_batching();
  if (config.max_batch_size() <= 0) {
    return Invalid(config, "dynamic_batching requires max_batch_size > 0");
  }
  for (int size : batching.preferred_batch_size()) {
    if (size < 1 || size > config.max_batch_size()) {
      return Invalid(config, fmt::format("dynamic_batching preferred_batch_size {} must be "
                                         "between 1 and max_batch_size {}",
                                         size, config.max_batch_size()));
    }
  }
  if (batching.has_padding()) RETURN_IF_ERROR(ValidatePadding(config));
  uint64_t levels = batching.priority_levels();
  if (levels == 0) {
    if (batching.default_priority_level() != 0 || !batching.priority_queue_policy().empty()) {
      return Invalid(config,
                     "dynamic_batching sets a priority level or priority_queue_policy "
                     "but priority_levels is 0");
    }
    return Status::Ok();
  }
  if (batching.default_priority_level() < 1 || batching.default_priority_level() > levels) {
    return Invalid(config, fmt::format("dynamic_batching default_priority_level {} must be "
                                       "between 1 and priority_levels {}",
                                       batching.default_priority_level(), levels));
  }
  for (const auto& [level, policy] : batching.priority_queue_policy()) {
    if (level < 1 || level > levels) {
      return Invalid(config, fmt::format("dynamic_batching priority_queue_policy level {} must be "
                                         "between 1 and priority_levels {}",
                                         level, levels));
    }
  }
  return Status::Ok();
}

Status ValidateInstanceGroups(const ModelConfig& config) {
  for (int i = 0; i < config.instance_group_size(); ++i) {
    const ModelInstanceGroup& group = config.instance_group(i);
    std::string what = group.name().empty() ? fmt::format("instance_group #{}", i)
                                            : fmt::format("instance_group '{}'", group.name());
    if (group.count() < 0) {
      return Invalid(config,
                     fmt::format("{} has count {}; it must be at least 1", what, group.count()));
    }
    // Whether a backend can place instances on a GPU is the backend's to check
    // (Backend::CompleteConfig); here only the group's own consistency.
    const bool gpu_kind = group.kind() == ModelInstanceGroup::KIND_GPU ||
                          group.kind() == ModelInstanceGroup::KIND_AUTO;
    if (!gpu_kind && !group.gpus().empty()) {
      return Invalid(config, fmt::format("{} lists gpus, which only GPU groups may", what));
    }
    for (int gpu : group.gpus()) {
      if (gpu < 0) return Invalid(config, fmt::format("{} lists gpu {}; ids are >= 0", what, gpu));
    }
  }
  return Status::Ok();
}

Status ValidateWarmupInput(const ModelConfig& config, std::string_view what,
                           const std::string& name, const ModelWarmup::Input& data) {
  const ModelInput* input = nullptr;
  for (const auto& candidate : config.input()) {
    if (candidate.name() == name) input = &candidate;
  }
  if (input == nullptr) {
    return Invalid(config,
                   fmt::format("{} has data for '{}', which is not a config input", what, name));
  }
  if (data.data_type() != input->data_type()) {
    return Invalid(config, fmt::format("{} input '{}' has data type {} but the config input has "
                                       "{}",
                                       what, name, ProtoDataTypeName(data.data_type()),
                                       ProtoDataTypeName(input->data_type())));
  }
  bool compatible = data.dims_size() == input->dims_size();
  for (int d = 0; compatible && d < data.dims_size(); ++d) {
    compatible = data.dims(d) > 0 && (input->dims(d) == -1 || input->dims(d) == data.dims(d));
  }
  if (!compatible) {
    return Invalid(config,
                   fmt::format("{} input '{}' has dims {}, which is not a concrete shape "
                               "of the config input's dims {}",
                               what, name, DimsToString(data.dims()), DimsToString(input->dims())));
  }
  switch (data.input_data_type_case()) {
    case ModelWarmup::Input::kZeroData:
    case ModelWarmup::Input::kRandomData:
      return Status::Ok();
    case ModelWarmup::Input::kInputDataFile:
      return ValidateRelativeFile(config, fmt::format("{} input '{}' input_data_file", what, name),
                                  data.input_data_file());
    case ModelWarmup::Input::INPUT_DATA_TYPE_NOT_SET:
      break;
  }
  return Invalid(config, fmt::format("{} input '{}' sets none of zero_data, random_data and "
                                     "input_data_file",
                                     what, name));
}

Status ValidateWarmup(const ModelConfig& config) {
  for (int i = 0; i < config.model_warmup_size(); ++i) {
    const ModelWarmup& warmup = config.model_warmup(i);
    std::string what = warmup.name().empty() ? fmt::format("model_warmup #{}", i)
                                             : fmt::format("model_warmup '{}'", warmup.name());
    uint32_t limit =
        config.max_batch_size() > 0 ? static_cast<uint32_t>(config.max_batch_size()) : 1;
    if (warmup.batch_size() > limit) {
      return Invalid(config, fmt::format("{} has batch_size {}, more than the model allows ({})",
                                         what, warmup.batch_size(), limit));
    }
    for (const auto& [name, data] : warmup.inputs()) {
      RETURN_IF_ERROR(ValidateWarmupInput(config, what, name, data));
    }
    for (const auto& input : config.input()) {
      if (!input.optional() && warmup.inputs().count(input.name()) == 0) {
        return Invalid(config,
                       fmt::format("{} has no data for config input '{}'", what, input.name()));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateModelTensors(const ModelConfig& config) {
  std::set<std::string> names;
  for (const auto& input : config.input()) {
    RETURN_IF_ERROR(ValidateTensor(config, "input", input));
    if (!names.insert(input.name()).second) {
      return Invalid(config, fmt::format("config input '{}' is listed twice", input.name()));
    }
    if (input.format() != ModelInput::FORMAT_NONE && input.dims_size() != 3) {
      return Invalid(config, fmt::format("config input '{}' has format {} and so needs 3 dims "
                                         "(without the batch dimension), not {}",
                                         input.name(), ModelInput::Format_Name(input.format()),
                                         DimsToString(input.dims())));
    }
  }
  names.clear();
  for (const auto& output : config.output()) {
    RETURN_IF_ERROR(ValidateTensor(config, "output", output));
    if (!names.insert(output.name()).second) {
      return Invalid(config, fmt::format("config output '{}' is listed twice", output.name()));
    }
    if (!output.label_filename().empty()) {
      RETURN_IF_ERROR(ValidateRelativeFile(
          config, fmt::format("config output '{}' label_filename", output.name()),
          output.label_filename()));
    }
  }
  return Status::Ok();
}

Status ValidateModelConfig(const ModelConfig& config) {
  if (config.max_batch_size() < 0) {
    return Invalid(config,
                   fmt::format("max_batch_size is {}; it must be >= 0", config.max_batch_size()));
  }
  RETURN_IF_ERROR(ValidateModelTensors(config));
  RETURN_IF_ERROR(ValidateDynamicBatching(config));
  RETURN_IF_ERROR(ValidateInstanceGroups(config));
  RETURN_IF_ERROR(ValidateWarmup(config));
  if (!config.default_model_filename().empty()) {
    RETURN_IF_ERROR(
        ValidateRelativeFile(config, "default_model_filename", config.default_model_filename()));
  }
  return Status::Ok();
}

}  // namespace inferd::config
