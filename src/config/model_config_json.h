// The model config as JSON, the way Triton's GET /v2/models/{model}/config returns it: protobuf
// JSON with the .proto field names ("max_batch_size"), enums by name ("TYPE_FP32"), fields at
// their defaults printed too (so clients find "max_batch_size": 0), and 64-bit integers such as
// dims as JSON numbers rather than the strings plain protobuf JSON uses.
// Called by the HTTP frontend and the model statistics / repository endpoints.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

#include "config/model_config.pb.h"

namespace inferd::config {

// A compact JSON object (no whitespace), fields in .proto declaration order.
std::string ModelConfigToJson(const ModelConfig& config);

// Parses a config from JSON (as ModelConfigToJson writes it, or as Triton's load API takes
// it). INVALID_ARGUMENT naming the problem for malformed JSON or unknown fields.
Result<ModelConfig> ModelConfigFromJson(std::string_view json);

}  // namespace inferd::config
