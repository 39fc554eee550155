#include "optimize/quantize_int8.h"

#include <gtest/gtest.h>

#include "optimize/onnx_model.h"
#include "rewrite_test_support.h"
#include "tiny_models.h"

namespace inferd::optimize {
namespace {
using testing::CountOps;
using testing::TinyMlp;

TEST(QuantizeDynamicInt8, RewritesEveryDenseWeightAsMatMulInteger) {
  auto result = QuantizeDynamicInt8(TinyMlp());
  ASSERT_TRUE(result.ok()) << result.status().message();
  const auto& m = result->model;
  EXPECT_EQ(CountOps(m, "MatMul"), 0);
  EXPECT_EQ(CountOps(m, "Gemm"), 0);
  EXPECT_EQ(CountOps(m, "MatMulInteger"), 2);
  EXPECT_EQ(CountOps(m, "DynamicQuantizeLinear"), 2);
  EXPECT_TRUE(CheckOnnxModel(m).ok()) << CheckOnnxModel(m).message();
  int int8_weights = 0;
  for (const auto& t : m.graph().initializer()) {
    EXPECT_NE(t.name(), "W1");  // the float weights are gone
    EXPECT_NE(t.name(), "W2");
    if (t.data_type() == onnx::TensorProto::INT8 && t.dims_size() == 2) ++int8_weights;
  }
  EXPECT_EQ(int8_weights, 2);
}

TEST(QuantizeDynamicInt8, ScalesPerOutputChannelAndUndoesTransB) {
  auto result = QuantizeDynamicInt8(TinyMlp(/*hidden=*/8));
  ASSERT_TRUE(result.ok());
  for (const auto& t : result->model.graph().initializer()) {
    if (t.name().find("logits") != std::string::npos && t.name().ends_with("_W")) {
      // Gemm's W2 is [3, 8] with transB: stored as [K=8, N=3].
      ASSERT_EQ(t.dims_size(), 2);
      EXPECT_EQ(t.dims(0), 8);
      EXPECT_EQ(t.dims(1), 3);
    }
    if (t.name().ends_with("_Wscale")) {
      EXPECT_EQ(t.dims_size(), 1);
    }
  }
}

TEST(QuantizeDynamicInt8, OutputStaysCloseToTheOriginalInOnnxRuntime) {
  auto original = TinyMlp();
  auto result = QuantizeDynamicInt8(original);
  ASSERT_TRUE(result.ok());
  const double diff = testing::MaxOutputDiff(original, result->model);
  EXPECT_LT(diff, 0.05);
  EXPECT_GT(diff, 0.0);  // it really is quantized
}

TEST(QuantizeDynamicInt8, ModelWithoutDenseLayersIsUnimplemented) {
  auto result = QuantizeDynamicInt8(testing::ReluOnly());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(result.status().message().find("no MatMul or Gemm"), std::string::npos);
}

TEST(QuantizeDynamicInt8, OldOpsetIsRefusedByName) {
  auto m = TinyMlp();
  m.mutable_opset_import(0)->set_version(9);
  auto result = QuantizeDynamicInt8(m);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("opset 9"), std::string::npos);
}

}  // namespace
}  // namespace inferd::optimize
