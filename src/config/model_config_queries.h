// Small read-only questions about a completed ModelConfig that the scheduler, backends and
// frontends ask: the full shape of a tensor including the batch dimension, and the value of a
// string parameter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model_config.pb.h"

namespace inferd::config {

// Full tensor shape including the batch dim: if max_batch_size > 0, prepends -1 to dims.
std::vector<int64_t> FullDims(const ModelConfig& config,
                              const google::protobuf::RepeatedField<int64_t>& dims);

// The string_value of `parameters { key: "<key>" value { string_value: … } }`, if present.
std::optional<std::string> GetParameter(const ModelConfig& config, std::string_view key);

// The config's input or output of that name, or nullptr.
const ModelInput* FindInput(const ModelConfig& config, std::string_view name);
const ModelOutput* FindOutput(const ModelConfig& config, std::string_view name);

}  // namespace inferd::config
