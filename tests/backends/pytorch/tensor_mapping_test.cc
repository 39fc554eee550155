#include "backends/pytorch/tensor_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/model_config_parser.h"

namespace inferd::backends::torch_mapping {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

config::ModelConfig Parse(const char* text) {
  auto c = config::ParseModelConfig(text, "test");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : config::ModelConfig();
}

TEST(TorchMapping, ReadsTheIndexOfTritonsNamingConvention) {
  EXPECT_EQ(NamingIndex("INPUT__0"), 0);
  EXPECT_EQ(NamingIndex("LOGITS__12"), 12);
  EXPECT_EQ(NamingIndex("a__b__3"), 3);
  EXPECT_EQ(NamingIndex("INPUT0"), std::nullopt);
  EXPECT_EQ(NamingIndex("INPUT__"), std::nullopt);
  EXPECT_EQ(NamingIndex("INPUT__x1"), std::nullopt);
  EXPECT_EQ(NamingIndex("INPUT__-1"), std::nullopt);
}

TEST(TorchMapping, MapsInputsByIndexSuffix) {
  auto positions = MapInputs(Parse(R"(input [ { name: "INPUT__1" data_type: TYPE_FP32 dims: 1 },
                                              { name: "INPUT__0" data_type: TYPE_FP32 dims: 1 } ])"),
                             {"a", "b"}, 2);
  ASSERT_TRUE(positions.ok()) << positions.status().ToString();
  EXPECT_THAT(*positions, ElementsAre(1, 0));
}

TEST(TorchMapping, MapsInputsByForwardArgumentName) {
  auto positions = MapInputs(Parse(R"(input [ { name: "y" data_type: TYPE_FP32 dims: 1 },
                                              { name: "x" data_type: TYPE_FP32 dims: 1 } ])"),
                             {"x", "y"}, 2);
  ASSERT_TRUE(positions.ok()) << positions.status().ToString();
  EXPECT_THAT(*positions, ElementsAre(1, 0));
}

TEST(TorchMapping, LeavesArgumentsWithDefaultsUnfed) {
  auto positions = MapInputs(Parse(R"(input [ { name: "x" data_type: TYPE_FP32 dims: 1 } ])"),
                             {"x", "scale"}, 1);
  ASSERT_TRUE(positions.ok()) << positions.status().ToString();
  EXPECT_THAT(*positions, ElementsAre(0));
}

TEST(TorchMapping, RejectsAnInputThatFeedsNoArgument) {
  auto positions =
      MapInputs(Parse(R"(input [ { name: "z" data_type: TYPE_FP32 dims: 1 } ])"), {"x"}, 1);
  ASSERT_FALSE(positions.ok());
  EXPECT_THAT(positions.status().message(),
              HasSubstr("config input 'z' is neither an argument of forward(x) nor named "
                        "<name>__<index>"));
}

TEST(TorchMapping, RejectsAnIndexPastTheArguments) {
  auto positions =
      MapInputs(Parse(R"(input [ { name: "INPUT__2" data_type: TYPE_FP32 dims: 1 } ])"), {"x"}, 0);
  ASSERT_FALSE(positions.ok());
  EXPECT_THAT(positions.status().message(), HasSubstr("feeds argument 2 but forward(x) takes 1"));
}

TEST(TorchMapping, RejectsARequiredArgumentNoInputFeeds) {
  auto positions =
      MapInputs(Parse(R"(input [ { name: "x" data_type: TYPE_FP32 dims: 1 } ])"), {"x", "y"}, 2);
  ASSERT_FALSE(positions.ok());
  EXPECT_THAT(positions.status().message(),
              HasSubstr("forward() argument 'y' (#1) is fed by no config input"));
}

TEST(TorchMapping, RejectsTwoInputsForOneArgument) {
  auto positions = MapInputs(Parse(R"(input [ { name: "x" data_type: TYPE_FP32 dims: 1 },
                                              { name: "IN__0" data_type: TYPE_FP32 dims: 1 } ])"),
                             {"x"}, 1);
  ASSERT_FALSE(positions.ok());
  EXPECT_THAT(positions.status().message(), HasSubstr("which another input already feeds"));
}

TEST(TorchMapping, MapsOutputsBySuffixWhenAllHaveOneElseByConfigOrder) {
  auto by_suffix = MapOutputs(Parse(R"(output [ { name: "B__1" data_type: TYPE_FP32 dims: 1 },
                                                { name: "A__0" data_type: TYPE_FP32 dims: 1 } ])"));
  ASSERT_TRUE(by_suffix.ok());
  EXPECT_THAT(*by_suffix, ElementsAre(1, 0));
  auto by_order = MapOutputs(Parse(R"(output [ { name: "B__1" data_type: TYPE_FP32 dims: 1 },
                                               { name: "probs" data_type: TYPE_FP32 dims: 1 } ])"));
  ASSERT_TRUE(by_order.ok());
  EXPECT_THAT(*by_order, ElementsAre(0, 1));
}

TEST(TorchMapping, RequiresTheConfigToListTensors) {
  EXPECT_THAT(CheckTorchConfig(Parse(""), "m").message(),
              HasSubstr("model 'm': a TorchScript file does not declare its tensors' types and "
                        "shapes; list every input and output"));
}

TEST(TorchMapping, RejectsDataTypesLibtorchLacks) {
  for (const char* type : {"TYPE_UINT16", "TYPE_UINT32", "TYPE_UINT64", "TYPE_STRING"}) {
    const std::string text = std::string("input [ { name: \"x\" data_type: ") + type +
                             " dims: 1 } ] output [ { name: \"y\" data_type: TYPE_FP32 dims: 1 } ]";
    EXPECT_THAT(CheckTorchConfig(Parse(text.c_str()), "m").message(),
                HasSubstr(std::string("input 'x' has data type ") + type +
                          ", which libtorch tensors do not have"));
  }
}

}  // namespace
}  // namespace inferd::backends::torch_mapping
