#include "config/step_condition.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "config/model_config_parser.h"

namespace inferd::config {
namespace {

using ::testing::HasSubstr;

StepCondition Parse(std::string_view text) {
  auto c = ParseStepCondition(text);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : StepCondition();
}

std::string ErrorOf(std::string_view text) {
  auto c = ParseStepCondition(text);
  return c.ok() ? "" : c.status().message();
}

bool Holds(std::string_view text, const Parameters& parameters, const Tensor* tensor = nullptr) {
  auto r = EvaluateCondition(Parse(text), parameters, tensor);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() && *r;
}

Tensor Fp32(std::vector<float> values) {
  Tensor t("T", inferd::DataType::kFp32, {static_cast<int64_t>(values.size())});
  auto bytes = t.AllocateData(values.size() * 4);
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());  // null when empty
  return t;
}

TEST(StepCondition, ParsesParameterAndTensorComparisons) {
  auto c = Parse("parameters.lang == 'en'");
  EXPECT_EQ(c.source, StepCondition::Source::kParameter);
  EXPECT_EQ(c.name, "lang");
  EXPECT_EQ(c.op, StepCondition::Op::kEq);
  EXPECT_EQ(std::get<std::string>(c.value), "en");
  c = Parse("  CONFIDENCE<=0.5 ");
  EXPECT_EQ(c.source, StepCondition::Source::kTensor);
  EXPECT_EQ(c.name, "CONFIDENCE");
  EXPECT_EQ(c.op, StepCondition::Op::kLe);
  EXPECT_DOUBLE_EQ(std::get<double>(c.value), 0.5);
  EXPECT_EQ(std::get<std::string>(Parse(R"(parameters.fast != "x" )").value), "x");
  EXPECT_EQ(std::get<bool>(Parse("parameters.detailed == true").value), true);
}

TEST(StepCondition, RefusesMalformedConditions) {
  EXPECT_THAT(ErrorOf("lang"), HasSubstr("expected <operand> <op> <literal>"));
  EXPECT_THAT(ErrorOf("== 3"), HasSubstr("nothing to compare before the operator"));
  EXPECT_THAT(ErrorOf("X >"), HasSubstr("nothing to compare with after the operator"));
  EXPECT_THAT(ErrorOf("X > abc"), HasSubstr("'abc' is not a number, 'text' or true/false"));
  EXPECT_THAT(ErrorOf("parameters.lang < 'en'"),
              HasSubstr("text can only be compared with == or !="));
  EXPECT_THAT(ErrorOf("A B == 1"), HasSubstr("'A B' is not one name"));
  EXPECT_THAT(ErrorOf("parameters. == 1"), HasSubstr("names no parameter"));
}

TEST(StepCondition, ComparesRequestParameters) {
  const Parameters params{{"lang", std::string("en")}, {"top", int64_t{3}}, {"fast", true}};
  EXPECT_TRUE(Holds("parameters.lang == 'en'", params));
  EXPECT_FALSE(Holds("parameters.lang != 'en'", params));
  EXPECT_TRUE(Holds("parameters.top > 2.5", params));
  EXPECT_FALSE(Holds("parameters.top >= 4", params));
  EXPECT_TRUE(Holds("parameters.fast == true", params));
}

TEST(StepCondition, AMissingParameterMakesItFalse) {
  EXPECT_FALSE(Holds("parameters.lang == 'en'", {}));
  EXPECT_FALSE(Holds("parameters.lang != 'en'", {}));
}

TEST(StepCondition, ComparesTheFirstElementOfATensor) {
  const Tensor scores = Fp32({0.25f, 0.9f});
  EXPECT_TRUE(Holds("T < 0.5", {}, &scores));
  EXPECT_FALSE(Holds("T > 0.5", {}, &scores));
  const Tensor empty = Fp32({});
  EXPECT_FALSE(Holds("T < 0.5", {}, &empty));
  EXPECT_FALSE(Holds("T < 0.5", {}, nullptr));
}

TEST(StepCondition, AKindMismatchIsAnError) {
  auto r = EvaluateCondition(Parse("parameters.lang > 2"), {{"lang", std::string("en")}}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr("run_if compares parameter 'lang' (text) with a number"));
}

TEST(StepCondition, ABadRunIfIsReportedWithItsFileAndLine) {
  auto config = ParseModelConfig(R"(name: "e"
platform: "ensemble"
input { name: "X" data_type: TYPE_FP32 dims: [ 1 ] }
output { name: "Y" data_type: TYPE_FP32 dims: [ 1 ] }
ensemble_scheduling { step [
  { model_name: "a" input_map { key: "x" value: "X" } output_map { key: "y" value: "Y" }
    run_if: "SCORE > 1" } ] })",
                                 "models/e/config.pbtxt");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("models/e/config.pbtxt:7:5: step 1 (model 'a'): run_if 'SCORE > 1' "
                        "tests 'SCORE', which is neither an ensemble input nor the output of any "
                        "step"));
  config = ParseModelConfig(R"(ensemble_scheduling { step [ { model_name: "a"
    run_if: "parameters.x <" } ] })",
                            "c.pbtxt");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("c.pbtxt:2:5: step 1 (model 'a'): run_if"));
}

}  // namespace
}  // namespace inferd::config
