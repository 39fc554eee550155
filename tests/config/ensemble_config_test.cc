#include "config/ensemble_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "config/model_config_parser.h"

namespace inferd::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

ModelConfig Parse(const std::string& text) {
  auto config = ParseModelConfig(text, "test");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? *config : ModelConfig();
}

// The message of ValidateEnsembleConfig, or "" when the config is valid.
std::string ErrorOf(const std::string& text) {
  Status status = ValidateEnsembleConfig(Parse(text));
  if (status.ok()) return "";
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  return status.message();
}

constexpr char kHeader[] = R"(
    name: "pipe" platform: "ensemble" max_batch_size: 0
    input { name: "IMAGE" data_type: TYPE_UINT8 dims: [ -1 ] }
    output { name: "LABEL" data_type: TYPE_FP32 dims: [ 10 ] })";

// decode -> classify, the usual two-step pipeline.
constexpr char kTwoSteps[] = R"(
    ensemble_scheduling {
      step [
        { model_name: "preprocess" model_version: -1
          input_map { key: "raw" value: "IMAGE" }
          output_map { key: "pixels" value: "PIXELS" } },
        { model_name: "classifier" model_version: -1
          input_map { key: "input" value: "PIXELS" }
          output_map { key: "probabilities" value: "LABEL" } }
      ]
    })";

TEST(EnsembleConfig, AcceptsAPipelineOfTwoSteps) {
  EXPECT_EQ(ErrorOf(std::string(kHeader) + kTwoSteps), "");
}

TEST(EnsembleConfig, RecognizesEnsemblesByPlatformOrScheduling) {
  EXPECT_TRUE(IsEnsemble(Parse(R"(platform: "ensemble")")));
  EXPECT_TRUE(IsEnsemble(Parse(kTwoSteps)));
  EXPECT_FALSE(IsEnsemble(Parse(R"(platform: "onnxruntime_onnx")")));
}

TEST(EnsembleConfig, DependenciesFollowTheTensors) {
  auto deps = EnsembleStepDependencies(Parse(std::string(kHeader) + kTwoSteps));
  ASSERT_EQ(deps.size(), 2u);
  EXPECT_THAT(deps[0], IsEmpty());
  EXPECT_THAT(deps[1], ElementsAre(0u));
}

TEST(EnsembleConfig, StepsThatReadOnlyInputsAreIndependent) {
  auto deps = EnsembleStepDependencies(Parse(std::string(R"(
      name: "fan" platform: "ensemble"
      input { name: "X" data_type: TYPE_FP32 dims: [ 4 ] }
      output { name: "A" data_type: TYPE_FP32 dims: [ 4 ] }
      output { name: "B" data_type: TYPE_FP32 dims: [ 4 ] }
      output { name: "C" data_type: TYPE_FP32 dims: [ 4 ] }
      ensemble_scheduling { step [
        { model_name: "m1" input_map { key: "x" value: "X" } output_map { key: "y" value: "A" } },
        { model_name: "m2" input_map { key: "x" value: "X" } output_map { key: "y" value: "B" } },
        { model_name: "m3" input_map { key: "a" value: "A" } input_map { key: "b" value: "B" }
          output_map { key: "y" value: "C" } } ] })")));
  ASSERT_EQ(deps.size(), 3u);
  EXPECT_THAT(deps[0], IsEmpty());
  EXPECT_THAT(deps[1], IsEmpty());
  EXPECT_THAT(deps[2], ElementsAre(0u, 1u));
}

TEST(EnsembleConfig, RejectsAnUnmappedTensor) {
  std::string text = std::string(kHeader) + kTwoSteps;
  const std::string read = R"(key: "input" value: "PIXELS")";
  text.replace(text.find(read), read.size(), R"(key: "input" value: "PIXEL")");
  EXPECT_THAT(ErrorOf(text),
              HasSubstr("ensemble 'pipe': step 2 (model 'classifier') reads 'PIXEL', which is "
                        "neither an ensemble input nor the output of any step"));
}

TEST(EnsembleConfig, RejectsAnOutputNoStepWrites) {
  std::string text = std::string(kHeader) + kTwoSteps;
  text.replace(text.find("value: \"LABEL\""), 15, "value: \"SCORES\"");
  EXPECT_THAT(ErrorOf(text), HasSubstr("output 'LABEL' is not written by any step"));
}

TEST(EnsembleConfig, RejectsAnInputNoStepReads) {
  EXPECT_THAT(ErrorOf(std::string(kHeader) +
                      R"(input { name: "EXTRA" data_type: TYPE_FP32 dims: [ 1 ] })" + kTwoSteps),
              HasSubstr("input 'EXTRA' is not read by any step"));
}

TEST(EnsembleConfig, RejectsATensorWrittenTwice) {
  EXPECT_THAT(ErrorOf(std::string(kHeader) + R"(
      ensemble_scheduling { step [
        { model_name: "a" input_map { key: "x" value: "IMAGE" } output_map { key: "y" value: "LABEL" } },
        { model_name: "b" input_map { key: "x" value: "IMAGE" } output_map { key: "y" value: "LABEL" } }
      ] })"),
              HasSubstr("tensor 'LABEL' is written by both step 1 (model 'a') and step 2 (model "
                        "'b')"));
}

constexpr char kBranches[] = R"(
    ensemble_scheduling { step [
      { model_name: "score" input_map { key: "x" value: "IMAGE" }
        output_map { key: "y" value: "SCORE" } },
      { model_name: "small" input_map { key: "x" value: "IMAGE" }
        output_map { key: "y" value: "LABEL" } run_if: "SCORE < 0.5" },
      { model_name: "large" input_map { key: "x" value: "IMAGE" }
        output_map { key: "y" value: "LABEL" } run_if: "SCORE >= 0.5" } ] })";

TEST(EnsembleConfig, AcceptsConditionalBranchesThatShareAnOutput) {
  EXPECT_EQ(ErrorOf(std::string(kHeader) + kBranches), "");
}

TEST(EnsembleConfig, AConditionOnATensorWaitsForItsWriter) {
  auto deps = EnsembleStepDependencies(Parse(std::string(kHeader) + kBranches));
  ASSERT_EQ(deps.size(), 3u);
  EXPECT_THAT(deps[1], ElementsAre(0u));
  EXPECT_THAT(deps[2], ElementsAre(0u));
}

TEST(EnsembleConfig, RejectsAConditionOnAnUnknownTensor) {
  // As a config given to the load API (JSON, no file) would be: the parser did not see it.
  ModelConfig config = Parse(std::string(kHeader) + kBranches);
  config.mutable_ensemble_scheduling()->mutable_step(1)->set_run_if("SCORES < 0.5");
  EXPECT_THAT(ValidateEnsembleConfig(config).message(), HasSubstr("step 2 (model 'small'): run_if 'SCORES < 0.5' tests "
                                       "'SCORES', which is neither an ensemble input"));
}

TEST(EnsembleConfig, RejectsStepsThatWaitForEachOther) {
  EXPECT_THAT(ErrorOf(std::string(kHeader) + R"(
      ensemble_scheduling { step [
        { model_name: "a" input_map { key: "x" value: "IMAGE" } input_map { key: "z" value: "T2" }
          output_map { key: "y" value: "T1" } },
        { model_name: "b" input_map { key: "x" value: "T1" } output_map { key: "y" value: "T2" } },
        { model_name: "c" input_map { key: "x" value: "T2" } output_map { key: "y" value: "LABEL" } }
      ] })"),
              HasSubstr("the steps form a cycle: step 1 (model 'a'), step 2 (model 'b'), step 3 "
                        "(model 'c')"));
}

TEST(EnsembleConfig, RejectsAStepThatReadsItsOwnOutput) {
  EXPECT_THAT(ErrorOf(std::string(kHeader) + R"(
      ensemble_scheduling { step [
        { model_name: "a" input_map { key: "x" value: "IMAGE" } input_map { key: "z" value: "LABEL" }
          output_map { key: "y" value: "LABEL" } } ] })"),
              HasSubstr("the steps form a cycle: step 1 (model 'a')"));
}

TEST(EnsembleConfig, RejectsAStepThatRunsTheEnsembleItself) {
  EXPECT_THAT(ErrorOf(std::string(kHeader) + R"(
      ensemble_scheduling { step [
        { model_name: "pipe" input_map { key: "x" value: "IMAGE" }
          output_map { key: "y" value: "LABEL" } } ] })"),
              HasSubstr("step 1 (model 'pipe') runs the ensemble itself"));
}

TEST(EnsembleConfig, RejectsStepsWithoutNamesOrMaps) {
  EXPECT_THAT(ErrorOf(std::string(kHeader) + R"(ensemble_scheduling { step [ { } ] })"),
              HasSubstr("step 1 has no model_name"));
  EXPECT_THAT(ErrorOf(std::string(kHeader) +
                      R"(ensemble_scheduling { step [ { model_name: "a"
                         output_map { key: "y" value: "LABEL" } } ] })"),
              HasSubstr("step 1 (model 'a') has no input_map"));
  EXPECT_THAT(ErrorOf(std::string(kHeader) + R"(ensemble_scheduling { })"),
              HasSubstr("ensemble_scheduling has no step"));
}

TEST(EnsembleConfig, RejectsWritingAnEnsembleInput) {
  EXPECT_THAT(ErrorOf(std::string(kHeader) + R"(
      ensemble_scheduling { step [
        { model_name: "a" input_map { key: "x" value: "IMAGE" }
          output_map { key: "y" value: "IMAGE" } output_map { key: "z" value: "LABEL" } } ] })"),
              HasSubstr("writes 'IMAGE', which is an ensemble input"));
}

TEST(EnsembleConfig, NeedsThePlatformDeclaredTensorsAndNoEngineSettings) {
  EXPECT_THAT(ErrorOf(std::string(R"(name: "pipe" input { name: "IMAGE" data_type: TYPE_UINT8 }
                                     output { name: "LABEL" data_type: TYPE_FP32 })") +
                      kTwoSteps),
              HasSubstr("ensemble_scheduling needs platform \"ensemble\""));
  EXPECT_THAT(ErrorOf(std::string(R"(name: "pipe" platform: "ensemble")") + kTwoSteps),
              HasSubstr("an ensemble must declare its inputs and outputs"));
  EXPECT_THAT(ErrorOf(std::string(kHeader) + R"(instance_group { count: 2 })" + kTwoSteps),
              HasSubstr("an ensemble runs no engine of its own"));
  EXPECT_THAT(ErrorOf(std::string(kHeader)),
              HasSubstr("platform \"ensemble\" needs an ensemble_scheduling block"));
}

}  // namespace
}  // namespace inferd::config
