#include "optimize_command.h"

#include <fmt/format.h>

#include <cstdio>

#include "optimize/optimizer.h"
#include "optimize/version_writer.h"

namespace inferd::app {
namespace {

struct OptimizeFlags {
  optimize::OptimizeOptions options;
  std::string out_dir;
  std::string write;  // the candidate to write; empty = the fastest accepted one
  bool dry_run = false;
  int64_t bench_ms = 60;
};

OptimizeFlags& Flags() {
  static OptimizeFlags flags;
  return flags;
}

// The candidate to write, or null (with the reason printed).
const optimize::CandidateReport* Choose(const optimize::OptimizeReport& report,
                                        const std::string& wanted) {
  const optimize::CandidateReport* best = nullptr;
  for (const auto& c : report.candidates) {
    if (!wanted.empty() && c.name != wanted) continue;
    if (c.failed || c.rejected) {
      if (!wanted.empty()) {
        fmt::print(stderr, "inferd optimize: '{}' {}; nothing written\n", wanted,
                   c.failed ? "failed" : "lost more accuracy than --max-accuracy-drop");
        return nullptr;
      }
      continue;
    }
    if (best == nullptr || c.throughput_ratio > best->throughput_ratio) best = &c;
  }
  if (best == nullptr) {
    fmt::print(stderr, "inferd optimize: {}; nothing written\n",
               wanted.empty() ? "no transform succeeded within the accuracy limit"
                              : fmt::format("'{}' is not one of --transforms", wanted));
  }
  return best;
}

}  // namespace

CLI::App* AddOptimizeCommand(CLI::App& app) {
  OptimizeFlags& f = Flags();
  CLI::App* cmd = app.add_subcommand(
      "optimize",
      "Transform an ONNX model (graph optimization, int8, fp16, pruning, distill), "
      "measure each result, write the chosen one as a new model version");
  cmd->add_option("model", f.options.model_path, "The ONNX model file")->required();
  cmd->add_option("--out", f.out_dir,
                  "Model directory in a repository (DIR/<next version>/model.onnx)");
  cmd->add_option("--eval", f.options.eval_path,
                  "Eval set, JSON: {\"inputs\": {name: [samples]}, \"labels\": [...]}; "
                  "without: sampled inputs, compared with the original's outputs");
  cmd->add_option("--train-inputs", f.options.train_path,
                  "distill: the student's training inputs (eval set format)");
  cmd->add_option("--transforms", f.options.transforms,
                  "Candidates, ',' between candidates and '+' between chained steps: graph, "
                  "graph-extended, int8, fp16, prune[:sparsity], structured[:fraction], "
                  "distill[:hidden units]")
      ->capture_default_str();
  cmd->add_option("--max-accuracy-drop", f.options.max_accuracy_drop,
                  "A candidate losing more accuracy (labels) or top-1 agreement (no labels) "
                  "than this is reported and not written");
  cmd->add_option("--write", f.write, "The candidate to write (default: the fastest accepted one)");
  cmd->add_flag("--dry-run", f.dry_run, "Measure only; write nothing");
  cmd->add_option("--batch", f.options.batch, "Samples per ORT run")->capture_default_str();
  cmd->add_option("--threads", f.options.intra_op_threads, "ORT intra-op threads per session")
      ->capture_default_str();
  cmd->add_option("--samples", f.options.sample_count, "Sampled inputs without --eval")
      ->capture_default_str();
  cmd->add_option("--bench-ms", f.bench_ms, "Throughput: milliseconds per model per round")
      ->capture_default_str();
  cmd->add_option("--bench-rounds", f.options.bench_rounds, "Throughput: interleaved rounds")
      ->capture_default_str();
  return cmd;
}

int RunOptimizeCommand() {
  OptimizeFlags& f = Flags();
  if (f.out_dir.empty() && !f.dry_run) {
    fmt::print(stderr, "inferd optimize: --out DIR is required (or --dry-run)\n");
    return 1;
  }
  f.options.bench_microseconds = f.bench_ms * 1000;
  auto report = optimize::RunOptimize(f.options);
  if (!report.ok()) {
    fmt::print(stderr, "inferd optimize: {}\n", report.status().message());
    return 1;
  }
  fmt::print("{}", optimize::FormatReport(*report));
  std::fflush(stdout);
  const optimize::CandidateReport* chosen = Choose(*report, f.write);
  if (chosen == nullptr) return 1;
  if (f.dry_run) {
    fmt::print("dry run: would write '{}'\n", chosen->name);
    return 0;
  }
  auto version = optimize::WriteModelVersion(f.out_dir, chosen->model_bytes);
  if (!version.ok()) {
    fmt::print(stderr, "inferd optimize: {}\n", version.status().message());
    return 1;
  }
  fmt::print("wrote '{}' as version {}: {}/{}/model.onnx\n", chosen->name, *version, f.out_dir,
             *version);
  return 0;
}

}  // namespace inferd::app
