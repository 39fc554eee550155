// Distillation: a smaller dense student — Flatten → Dense(H) → ReLU → Dense(outputs) [→ Softmax]
// — trained with libtorch (C++) to reproduce the teacher's first output over an input set, and
// written as an ONNX graph built here with the ONNX protobuf API. When the teacher's output comes
// from a Softmax, the student learns its logits against the teacher's probabilities (soft-target
// cross-entropy) and ends in a Softmax too; otherwise it regresses the output (mean squared
// error). The teacher runs in ONNX Runtime. libtorch stays in distill.cc alone (its headers are
// slow to compile); without it (INFERD_WITH_TORCH=OFF) Distill answers UNIMPLEMENTED.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "optimize/eval_set.h"
#include "optimize/ort_evaluator.h"
#include "optimize/transform.h"

namespace inferd::optimize {

struct DistillOptions {
  int64_t hidden_units = 32;
  int epochs = 150;
  int64_t batch = 64;
  double learning_rate = 3e-3;
  // The inputs the student learns on. Empty: `sampled_count` samples drawn uniformly, feature by
  // feature, within the range the eval set spans (the teacher's input ranges).
  const EvalSet* train_inputs = nullptr;
  int64_t sampled_count = 4096;
};

// UNIMPLEMENTED for a teacher with more than one input or output.
Result<TransformResult> Distill(const onnx::ModelProto& teacher, OrtEvaluator& evaluator,
                                const EvalSet& eval_set, const DistillOptions& options);

}  // namespace inferd::optimize
