// How config tensors meet a TorchScript forward(): Triton's pytorch backend conventions as pure
// functions over names, so they are unit-tested without libtorch. Used by pytorch_backend.cc
// when an instance is created.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model_config.pb.h"
#include "core/status.h"

namespace inferd::backends::torch_mapping {

// The index of a `<name>__<index>` tensor name ("INPUT__0" -> 0), or nullopt.
std::optional<int> NamingIndex(std::string_view name);

// For each config input, in config order, the position of the forward() argument it feeds:
// an argument of the same name, else the `__<index>` suffix. Every argument without a default
// must be fed, and no two inputs may feed one argument. `arguments` excludes `self`;
// `required` is how many leading arguments have no default.
Result<std::vector<int>> MapInputs(const config::ModelConfig& config,
                                   const std::vector<std::string>& arguments, size_t required);

// For each config output, in config order, its index among forward()'s outputs: the
// `__<index>` suffix when every output has one, else its position in the config.
Result<std::vector<int>> MapOutputs(const config::ModelConfig& config);

// INVALID_ARGUMENT unless the config lists inputs and outputs whose data types libtorch has.
Status CheckTorchConfig(const config::ModelConfig& config, std::string_view model_name);

}  // namespace inferd::backends::torch_mapping
