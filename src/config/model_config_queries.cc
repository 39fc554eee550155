#include "config/model_config_queries.h"

namespace inferd::config {

std::vector<int64_t> FullDims(const ModelConfig& config,
                              const google::protobuf::RepeatedField<int64_t>& dims) {
  std::vector<int64_t> full;
  full.reserve(dims.size() + 1);
  if (config.max_batch_size() > 0) full.push_back(-1);
  full.insert(full.end(), dims.begin(), dims.end());
  return full;
}

std::optional<std::string> GetParameter(const ModelConfig& config, std::string_view key) {
  auto it = config.parameters().find(std::string(key));
  if (it == config.parameters().end()) return std::nullopt;
  return it->second.string_value();
}

const ModelInput* FindInput(const ModelConfig& config, std::string_view name) {
  for (const auto& input : config.input()) {
    if (input.name() == name) return &input;
  }
  return nullptr;
}

const ModelOutput* FindOutput(const ModelConfig& config, std::string_view name) {
  for (const auto& output : config.output()) {
    if (output.name() == name) return &output;
  }
  return nullptr;
}

}  // namespace inferd::config
