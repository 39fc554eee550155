// inferd command line: `inferd serve` (serve_command.h) runs the server, `bench`, `predict`,
// `tune` and `optimize` are the tools; `--version` and `--help` as usual.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "server/version.h"
#include "bench_command.h"
#include "predict_command.h"
#include "serve_command.h"
#include "tune_command.h"

namespace {

// `inferd optimize ARGS` execs `inferd-optimize optimize ARGS` from inferd's own directory
// (apps/inferd/optimize_main.cc says why it is a separate executable). Returns only on failure.
int RunSiblingOptimize(int argc, char** argv) {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  const std::filesystem::path sibling = self.parent_path() / "inferd-optimize";
  const std::string program = sibling.string();
  // argv[0] stays the name the user typed, so usage lines read "inferd optimize ...".
  std::vector<char*> args(argv, argv + argc);

  args.push_back(nullptr);
  if (!error) ::execv(program.c_str(), args.data());
  fmt::print(stderr, "inferd optimize runs {}, which could not be started: {}\n", program,
             error ? error.message() : std::strerror(errno));
  return EXIT_FAILURE;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "optimize") return RunSiblingOptimize(argc, argv);
  CLI::App app{"inferd: an inference server for ONNX models (KServe v2 / Triton protocols)"};
  app.set_version_flag("--version", std::string(inferd::server::kVersion));
  app.require_subcommand(1);

  CLI::App* serve = inferd::app::AddServeCommand(app);
  CLI::App* bench = inferd::app::AddBenchCommand(app);
  CLI::App* predict = inferd::app::AddPredictCommand(app);
  // Listed for --help only: main() hands `inferd optimize ...` to inferd-optimize before parsing.
  app.add_subcommand("optimize",
                     "Transform an ONNX model (graph optimization, int8, fp16, pruning, "
                     "distill), measure each result, write the chosen one as a new model version "
                     "(runs inferd-optimize; `inferd optimize --help` for its options)");
  CLI::App* tune = inferd::app::AddTuneCommand(app);

  CLI11_PARSE(app, argc, argv);
  if (serve->parsed()) return inferd::app::RunServeCommand();
  if (bench->parsed()) return inferd::app::RunBenchCommand();
  if (predict->parsed()) return inferd::app::RunPredictCommand();
  if (tune->parsed()) return inferd::app::RunTuneCommand();
  return EXIT_SUCCESS;
}
