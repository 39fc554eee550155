#include "optimize/pruning.h"

#include <gtest/gtest.h>

#include "optimize/onnx_model.h"
#include "rewrite_test_support.h"
#include "tiny_models.h"

namespace inferd::optimize {
namespace {

std::vector<float> Weight(onnx::ModelProto& m, const std::string& name) {
  return FloatValues(*FindInitializer(*m.mutable_graph(), name)).value();
}

TEST(MagnitudePrune, ZeroesTheSmallestShareOfEachDenseWeight) {
  auto original = testing::TinyMlp(/*hidden=*/10);
  auto result = MagnitudePrune(original, 0.5);
  ASSERT_TRUE(result.ok()) << result.status().message();
  auto w1 = Weight(result->model, "W1");
  auto before = Weight(original, "W1");
  int zeros = 0;
  float largest_zeroed = 0, smallest_kept = 1e9;
  for (size_t i = 0; i < w1.size(); ++i) {
    if (w1[i] == 0) {
      ++zeros;
      largest_zeroed = std::max(largest_zeroed, std::fabs(before[i]));
    } else {
      EXPECT_EQ(w1[i], before[i]);
      smallest_kept = std::min(smallest_kept, std::fabs(before[i]));
    }
  }
  EXPECT_EQ(zeros, 20);  // half of 4 x 10
  EXPECT_LE(largest_zeroed, smallest_kept);
  EXPECT_TRUE(CheckOnnxModel(result->model).ok());
}

TEST(MagnitudePrune, RefusesASparsityOutsideZeroToOne) {
  EXPECT_FALSE(MagnitudePrune(testing::TinyMlp(), 1.0).ok());
}

TEST(StructuredPrune, RemovesHiddenUnitsFromBothLayersAndTheBias) {
  auto result = StructuredPrune(testing::TinyMlp(/*hidden=*/8), 0.25);
  ASSERT_TRUE(result.ok()) << result.status().message();
  auto& g = *result->model.mutable_graph();
  EXPECT_EQ(FindInitializer(g, "W1")->dims(1), 6);  // [4, 6]
  EXPECT_EQ(FindInitializer(g, "b1")->dims(0), 6);
  EXPECT_EQ(FindInitializer(g, "W2")->dims(0), 3);  // transB: [3, 6]
  EXPECT_EQ(FindInitializer(g, "W2")->dims(1), 6);
  EXPECT_TRUE(CheckOnnxModel(result->model).ok()) << CheckOnnxModel(result->model).message();
  EXPECT_LT(result->model.ByteSizeLong(), testing::TinyMlp(8).ByteSizeLong());
}

TEST(StructuredPrune, RemovesUnitsThatReachNoOutputFirst) {
  // Units 1 and 5 have no outgoing weight: removing them must not change the output at all.
  auto original = testing::TinyMlp(/*hidden=*/8);
  auto& g = *original.mutable_graph();
  auto w2 = FloatValues(*FindInitializer(g, "W2")).value();
  for (int out = 0; out < 3; ++out) w2[out * 8 + 1] = w2[out * 8 + 5] = 0;
  *FindInitializer(g, "W2") = MakeFloatTensor("W2", {3, 8}, w2);
  auto result = StructuredPrune(original, 0.25);
  ASSERT_TRUE(result.ok());
  EXPECT_LT(testing::MaxOutputDiff(original, result->model), 1e-6);
}

TEST(StructuredPrune, ModelWithoutDenseChainIsUnimplemented) {
  auto result = StructuredPrune(testing::ReluOnly(), 0.25);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace inferd::optimize
