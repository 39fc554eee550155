// Reading config.pbtxt: protobuf text format into a ModelConfig, with errors that name the file,
// line and column. Parsing only; CompleteAndValidate (auto_complete.h) checks the content.
// Called by the model repository when it loads a model directory.
#pragma once

#include <filesystem>
#include <string_view>

#include "config/model_config.pb.h"
#include "core/status.h"

namespace inferd::config {

// Parses config.pbtxt text with protobuf TextFormat. Errors (unknown field, bad value, syntax)
// are INVALID_ARGUMENT with the message "<source>:<line>:<column>: <parser message>" (1-based).
Result<ModelConfig> ParseModelConfig(std::string_view text, std::string_view source);

// Reads and parses the file; NOT_FOUND if it does not exist, INVALID_ARGUMENT if it does not
// parse (the message names the path), INTERNAL if it cannot be read.
Result<ModelConfig> ReadModelConfigFile(const std::filesystem::path& path);

}  // namespace inferd::config
