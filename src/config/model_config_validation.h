// Checks on a ModelConfig that need no model file: value ranges, tensor declarations, dynamic
// batching, instance groups, warmup samples and file names. CompleteAndValidate
// (auto_complete.h) runs these after filling the config from the model's signature; the
// repository may also call them directly on a config it received (e.g. a load request).
// Every error is INVALID_ARGUMENT with a message that starts "model '<name>': ".
#pragma once

#include "config/model_config.pb.h"
#include "core/status.h"

namespace inferd::config {

// Everything below, plus dynamic batching, instance groups, warmup and file names.
Status ValidateModelConfig(const ModelConfig& config);

// The input and output declarations alone: names non-empty and unique, valid data types,
// dims each > 0 or -1, reshape consistent with dims, no TensorRT-only options.
Status ValidateModelTensors(const ModelConfig& config);

}  // namespace inferd::config
