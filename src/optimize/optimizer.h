// `inferd optimize` without the command line: applies each candidate transform chain to a
// model, checks every result with the ONNX checker, loads it in ONNX Runtime and measures it
// against the original in the same process and run — file size, samples per second, accuracy
// (against labels) or agreement with the original's outputs. Candidates are named by a small
// grammar (see ParseCandidates); each one starts from the original model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace inferd::optimize {

// One step of a candidate: graph | graph-extended | int8 | fp16 | prune[:sparsity] |
// structured[:fraction] | distill[:hidden units].
struct TransformStep {
  std::string kind;
  double parameter = 0;  // the step's number (sparsity, fraction, hidden units); 0 = default
};
struct Candidate {
  std::string name;  // as written, e.g. "structured:0.25+int8"
  std::vector<TransformStep> steps;
};

// "graph,int8,structured:0.25+int8": candidates separated by ',', steps of one chain by '+'.
Result<std::vector<Candidate>> ParseCandidates(const std::string& text);

struct OptimizeOptions {
  std::string model_path;
  std::string eval_path;       // empty: sample inputs
  int64_t sample_count = 256;  // sampled inputs when there is no eval set
  std::string train_path;      // distill's inputs (eval set format; labels ignored);
                               // empty: sampled within the eval set's ranges
  std::string transforms = "graph,int8,fp16,prune:0.5,structured:0.25";
  int64_t batch = 32;  // samples per ORT run (a fixed batch dim overrides it)
  int intra_op_threads = 1;
  int64_t bench_microseconds = 60'000;  // per model per round
  int bench_rounds = 5;                 // interleaved; each model's best round counts
  double max_accuracy_drop = -1;        // < 0: no limit
};

struct CandidateReport {
  std::string name;
  std::string note;       // what the transform did, or why it failed
  bool failed = false;    // the transform, the checker or ORT refused it
  bool rejected = false;  // it lost more accuracy than max_accuracy_drop
  int64_t size_bytes = 0;
  double throughput = 0;                       // samples per second
  double throughput_ratio = 0;                 // ÷ the original, same run
  std::optional<double> accuracy;              // with labels
  double agreement = 0;                        // top-1 agreement with the original
  double max_abs_diff = 0, mean_abs_diff = 0;  // first output vs the original's
  double accuracy_drop = 0;                    // labels: accuracy lost; else 1 - agreement
  std::string model_bytes;                     // the candidate (empty when failed)
};

struct OptimizeReport {
  CandidateReport original;
  std::vector<CandidateReport> candidates;
  bool labelled = false;
  int64_t samples = 0;
};

// INVALID_ARGUMENT / NOT_FOUND / UNIMPLEMENTED for a bad model, eval set or transform list;
// a candidate that fails is reported in its row, not as an error.
Result<OptimizeReport> RunOptimize(const OptimizeOptions& options);

// The report as one aligned text table.
std::string FormatReport(const OptimizeReport& report);

}  // namespace inferd::optimize
