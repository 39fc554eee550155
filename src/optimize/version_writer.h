// Writes an optimized model into a model directory of an inferd (Triton-layout) repository as
// its next version: DIR/<n+1>/model.onnx, plus DIR/config.pbtxt when the directory has none.
// Nothing appears half-written: the version is written into a hidden temporary directory
// beside it and renamed into place (rename is atomic within one file system), so a polling
// server sees either no new version or a complete one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/status.h"

namespace inferd::optimize {

// The version number after the highest numeric subdirectory of `model_dir` (1 when none).
Result<int64_t> NextVersion(const std::filesystem::path& model_dir);

// The config.pbtxt written when a model directory has none: the name, the ONNX Runtime backend
// (inputs and outputs are auto-completed from the model at load) and two versions kept loaded,
// so that a canary can be rolled back to the version before it.
std::string DefaultConfig(const std::string& model_name);

// Writes `model_bytes` as the next version of `model_dir` (created if missing); the version.
Result<int64_t> WriteModelVersion(const std::filesystem::path& model_dir,
                                  const std::string& model_bytes);

}  // namespace inferd::optimize
