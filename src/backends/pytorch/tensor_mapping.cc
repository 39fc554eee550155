#include "backends/pytorch/tensor_mapping.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "config/proto_data_type.h"

namespace inferd::backends::torch_mapping {

std::optional<int> NamingIndex(std::string_view name) {
  const size_t sep = name.rfind("__");
  if (sep == std::string_view::npos || sep + 2 == name.size()) return std::nullopt;
  int index = 0;
  const char* begin = name.data() + sep + 2;
  const char* end = name.data() + name.size();
  auto [ptr, ec] = std::from_chars(begin, end, index);
  if (ec != std::errc() || ptr != end || index < 0) return std::nullopt;
  return index;
}

Result<std::vector<int>> MapInputs(const config::ModelConfig& config,
                                   const std::vector<std::string>& arguments, size_t required) {
  std::vector<int> positions;
  std::vector<bool> fed(arguments.size(), false);
  for (const auto& input : config.input()) {
    int position = -1;
    auto by_name = std::find(arguments.begin(), arguments.end(), input.name());
    if (by_name != arguments.end()) {
      position = static_cast<int>(by_name - arguments.begin());
    } else if (auto index = NamingIndex(input.name())) {
      position = *index;
    } else {
      return InvalidArgument(fmt::format(
          "config input '{}' is neither an argument of forward({}) nor named <name>__<index>",
          input.name(), fmt::join(arguments, ", ")));
    }
    if (position >= static_cast<int>(arguments.size())) {
      return InvalidArgument(
          fmt::format("config input '{}' feeds argument {} but forward({}) "
                      "takes {}",
                      input.name(), position, fmt::join(arguments, ", "), arguments.size()));
    }
    if (fed[position]) {
      return InvalidArgument(
          fmt::format("config input '{}' feeds forward() argument '{}', "
                      "which another input already feeds",
                      input.name(), arguments[position]));
    }
    fed[position] = true;
    positions.push_back(position);
  }
  for (size_t i = 0; i < required && i < arguments.size(); ++i) {
    if (!fed[i]) {
      return InvalidArgument(
          fmt::format("forward() argument '{}' (#{}) is fed by no config "
                      "input; name an input '{}' or '<name>__{}'",
                      arguments[i], i, arguments[i], i));
    }
  }
  return positions;
}

Result<std::vector<int>> MapOutputs(const config::ModelConfig& config) {
  const bool all_indexed =
      std::all_of(config.output().begin(), config.output().end(),
                  [](const auto& output) { return NamingIndex(output.name()).has_value(); });
  std::vector<int> indices;
  for (int i = 0; i < config.output_size(); ++i) {
    indices.push_back(all_indexed ? *NamingIndex(config.output(i).name()) : i);
  }
  std::vector<int> sorted = indices;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return InvalidArgument("two config outputs name the same <name>__<index> index");
  }
  return indices;
}

Status CheckTorchConfig(const config::ModelConfig& config, std::string_view model_name) {
  if (config.input_size() == 0 || config.output_size() == 0) {
    return InvalidArgument(fmt::format(
        "model '{}': a TorchScript file does not declare its tensors' types and shapes; list "
        "every input and output (name, data_type, dims) in config.pbtxt, as Triton's pytorch "
        "backend requires",
        model_name));
  }
  auto check = [&](std::string_view kind, const std::string& name,
                   config::DataType type) -> Status {
    switch (type) {
      case config::TYPE_UINT16:
      case config::TYPE_UINT32:
      case config::TYPE_UINT64:
      case config::TYPE_STRING:
        return InvalidArgument(fmt::format(
            "model '{}': {} '{}' has data type {}, which libtorch tensors do not have (it has "
            "BOOL, UINT8, INT8, INT16, INT32, INT64, FP16, BF16, FP32 and FP64)",
            model_name, kind, name, config::ProtoDataTypeName(type)));
      default:
        return Status::Ok();
    }
  };
  for (const auto& input : config.input()) {
    RETURN_IF_ERROR(check("input", input.name(), input.data_type()));
  }
  for (const auto& output : config.output()) {
    RETURN_IF_ERROR(check("output", output.name(), output.data_type()));
  }
  return Status::Ok();
}

}  // namespace inferd::backends::torch_mapping
