// `inferd optimize MODEL.onnx --out DIR`: applies model transforms (ORT graph optimization,
// int8 quantization, fp16, pruning, distillation), prints one table measuring each against the
// original, and writes the chosen result as the next version of the model directory DIR.
// main.cc registers it with AddOptimizeCommand and, when it was parsed, calls RunOptimizeCommand.
#pragma once

#include <CLI/CLI.hpp>

namespace inferd::app {

CLI::App* AddOptimizeCommand(CLI::App& app);

// The process exit status: 0 when a version was written (or --dry-run measured everything
// asked), 1 on bad input or when no candidate was acceptable.
int RunOptimizeCommand();

}  // namespace inferd::app
