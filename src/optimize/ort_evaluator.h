// ONNX Runtime in-process for `inferd optimize`: the offline graph optimization (a session that
// saves its optimized graph), and the measurements of the report — the first output over an
// eval set, and samples per second at a batch size. One Ort::Env per evaluator; sessions run
// with a fixed intra-op thread count so that every candidate is measured the same way.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "optimize/eval_set.h"

namespace inferd::optimize {

// ORT's optimization levels that write portable graphs (no layout transforms, which tie a
// graph to the machine's instruction set): basic (ONNX ops only) and extended (ORT's own fused
// contrib ops, for ORT on CPU).
enum class GraphLevel { kBasic, kExtended };

class OrtEvaluator {
 public:
  struct Options {
    int intra_op_threads = 1;  // per session; 1 keeps the ratios stable on a shared machine
  };
  class Session;  // a loaded candidate

  static Result<std::unique_ptr<OrtEvaluator>> Create(const Options& options);
  ~OrtEvaluator();

  // The model after ORT's offline optimization at `level` (optimized_model_filepath).
  Result<std::string> OptimizeGraph(const std::string& model_bytes, GraphLevel level);

  // Loads serialized model bytes; INVALID_ARGUMENT with ORT's message when ORT refuses them.
  Result<std::shared_ptr<Session>> Load(const std::string& model_bytes);

  // The first output for every sample, row-major [set.count, width] (FLOAT outputs only).
  struct Outputs {
    std::vector<float> values;
    int64_t width = 0;
  };
  Result<Outputs> Predict(Session& session, const EvalSet& set, int64_t batch);

  // Samples per second over passes through the set in batches of `batch`, running for at least
  // `min_microseconds`.
  Result<double> SamplesPerSecond(Session& session, const EvalSet& set, int64_t batch,
                                  int64_t min_microseconds);

 private:
  struct Impl;
  explicit OrtEvaluator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace inferd::optimize
