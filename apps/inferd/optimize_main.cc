// inferd-optimize: the `inferd optimize` command in an executable of its own. Optimizing links
// libonnx, ONNX Runtime and libtorch, which the server binary loads only as engine plugins
// (when a model needs them): kept out of `inferd`, they cost the server neither start-up time
// nor resident memory. `inferd optimize ARGS` runs `inferd-optimize optimize ARGS` from the
// directory of the inferd binary (see RunSiblingOptimize in main.cc).
#include <CLI/CLI.hpp>

#include "optimize_command.h"

int main(int argc, char** argv) {
  CLI::App app{"inferd optimize: transform, measure and version an ONNX model"};
  app.require_subcommand(1);
  inferd::app::AddOptimizeCommand(app);
  CLI11_PARSE(app, argc, argv);
  return inferd::app::RunOptimizeCommand();
}
