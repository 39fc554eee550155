// Runs a tiny model and its rewrite in ONNX Runtime on the same sampled inputs.
#pragma once

#include <gtest/gtest.h>

#include <cmath>

#include "optimize/eval_set.h"
#include "optimize/ort_evaluator.h"

namespace inferd::optimize::testing {

// The largest absolute difference between the two models' first outputs over 64 samples.
inline double MaxOutputDiff(const onnx::ModelProto& a, const onnx::ModelProto& b) {
  auto evaluator = OrtEvaluator::Create({}).value();
  EvalSet set = SampleEvalSet(ModelInputs(a).value(), 64, 7);
  auto sa = evaluator->Load(a.SerializeAsString());
  auto sb = evaluator->Load(b.SerializeAsString());
  EXPECT_TRUE(sa.ok()) << sa.status().message();
  EXPECT_TRUE(sb.ok()) << sb.status().message();
  if (!sa.ok() || !sb.ok()) return INFINITY;
  auto oa = evaluator->Predict(**sa, set, 16).value();
  auto ob = evaluator->Predict(**sb, set, 16).value();
  EXPECT_EQ(oa.width, ob.width);
  double max = 0;
  for (size_t i = 0; i < oa.values.size() && i < ob.values.size(); ++i) {
    max = std::max(max, std::fabs(double(oa.values[i]) - ob.values[i]));
  }
  return max;
}

}  // namespace inferd::optimize::testing
