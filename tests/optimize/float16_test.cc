#include "optimize/float16.h"

#include <gtest/gtest.h>

#include "optimize/onnx_model.h"
#include "rewrite_test_support.h"
#include "tiny_models.h"

namespace inferd::optimize {
namespace {

TEST(ConvertToFloat16, WeightsBecomeHalfWhileInputsAndOutputsStayFloat) {
  auto result = ConvertToFloat16(testing::TinyMlp());
  ASSERT_TRUE(result.ok()) << result.status().message();
  const auto& g = result->model.graph();
  for (const auto& t : g.initializer()) EXPECT_EQ(t.data_type(), onnx::TensorProto::FLOAT16);
  EXPECT_EQ(g.input(0).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT);
  EXPECT_EQ(g.output(0).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT);
  EXPECT_EQ(g.node(0).op_type(), "Cast");                  // at the input edge
  EXPECT_EQ(g.node(g.node_size() - 1).op_type(), "Cast");  // at the output edge
  EXPECT_TRUE(CheckOnnxModel(result->model).ok()) << CheckOnnxModel(result->model).message();
}

TEST(ConvertToFloat16, HalvesTheWeightBytesAndStaysClose) {
  auto original = testing::TinyMlp(/*hidden=*/64);
  auto result = ConvertToFloat16(original);
  ASSERT_TRUE(result.ok());
  EXPECT_LT(result->model.ByteSizeLong(), original.ByteSizeLong() * 0.65);
  EXPECT_LT(testing::MaxOutputDiff(original, result->model), 5e-3);
}

TEST(ConvertToFloat16, ConstantFloatAttributesBecomeHalfTensors) {
  // y = softmax(...) * 2, the 2 from a Constant with value_float.
  auto original = testing::TinyMlp();
  auto& g = *original.mutable_graph();
  g.mutable_node(g.node_size() - 1)->set_output(0, "p");
  g.mutable_node(g.node_size() - 1)->set_name("p_node");
  auto constant = testing::MakeNode("Constant", {}, "two");
  auto* a = constant.add_attribute();
  a->set_name("value_float");
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(2.0f);
  *g.add_node() = std::move(constant);
  *g.add_node() = testing::MakeNode("Mul", {"p", "two"}, "y");
  ASSERT_TRUE(CheckOnnxModel(original).ok()) << CheckOnnxModel(original).message();
  auto result = ConvertToFloat16(original);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(CheckOnnxModel(result->model).ok()) << CheckOnnxModel(result->model).message();
  EXPECT_LT(testing::MaxOutputDiff(original, result->model), 5e-3);
}

TEST(ConvertToFloat16, ModelWithoutWeightsIsUnimplemented) {
  auto result = ConvertToFloat16(testing::ReluOnly());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace inferd::optimize
