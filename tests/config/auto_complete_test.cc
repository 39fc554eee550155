#include "config/auto_complete.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/model_config_parser.h"

namespace inferd::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// An MLP with a dynamic batch dimension: x [-1,4] FP32 -> y [-1,2] FP32, probs [-1,2] FP32.
ModelSignature BatchableMlp() {
  return {.inputs = {{"x", inferd::DataType::kFp32, {-1, 4}}},
          .outputs = {{"y", inferd::DataType::kFp32, {-1, 2}},
                      {"probs", inferd::DataType::kFp32, {-1, 2}}}};
}

// A fixed-shape model: a [2,3] INT64, b [-1] INT64 (symbolic length) -> sum [2,3] INT64.
ModelSignature FixedModel() {
  return {
      .inputs = {{"a", inferd::DataType::kInt64, {2, 3}}, {"b", inferd::DataType::kInt64, {-1}}},
      .outputs = {{"sum", inferd::DataType::kInt64, {2, 3}}}};
}

constexpr EngineNames kOnnx{"onnxruntime_onnx", "onnxruntime"};

ModelConfig Parse(const char* text) {
  auto config = ParseModelConfig(text, "test");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? *config : ModelConfig();
}

// The error message of CompleteAndValidate, or "" when it succeeds.
std::string ErrorOf(const char* text, const ModelSignature& signature,
                    const char* model_name = "mlp") {
  ModelConfig config = Parse(text);
  Status status = CompleteAndValidate(config, signature, model_name, kOnnx);
  if (status.ok()) return "";
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  return status.message();
}

TEST(AutoComplete, FillsAnEmptyConfigOfABatchableModel) {
  ModelConfig config;
  ASSERT_TRUE(CompleteAndValidate(config, BatchableMlp(), "mlp", kOnnx).ok());
  EXPECT_EQ(config.name(), "mlp");
  EXPECT_EQ(config.platform(), "onnxruntime_onnx");
  EXPECT_EQ(config.backend(), "onnxruntime");
  EXPECT_EQ(config.max_batch_size(), kDefaultMaxBatchSize);
  ASSERT_EQ(config.input_size(), 1);
  EXPECT_EQ(config.input(0).name(), "x");
  EXPECT_EQ(config.input(0).data_type(), TYPE_FP32);
  EXPECT_THAT(config.input(0).dims(), ElementsAre(4));
  ASSERT_EQ(config.output_size(), 2);
  EXPECT_EQ(config.output(1).name(), "probs");
  EXPECT_THAT(config.output(1).dims(), ElementsAre(2));
  ASSERT_EQ(config.instance_group_size(), 1);
  EXPECT_EQ(config.instance_group(0).kind(), ModelInstanceGroup::KIND_CPU);
  EXPECT_EQ(config.instance_group(0).count(), 1);
  EXPECT_EQ(config.instance_group(0).name(), "mlp_0");
  ASSERT_TRUE(config.version_policy().has_latest());
  EXPECT_EQ(config.version_policy().latest().num_versions(), 1u);
}

TEST(AutoComplete, FillsAnEmptyConfigOfAFixedShapeModelWithoutBatching) {
  ModelConfig config;
  ASSERT_TRUE(CompleteAndValidate(config, FixedModel(), "adder", kOnnx).ok());
  EXPECT_EQ(config.max_batch_size(), 0);
  ASSERT_EQ(config.input_size(), 2);
  EXPECT_EQ(config.input(0).data_type(), TYPE_INT64);
  EXPECT_THAT(config.input(0).dims(), ElementsAre(2, 3));
  EXPECT_THAT(config.input(1).dims(), ElementsAre(-1));
  EXPECT_THAT(config.output(0).dims(), ElementsAre(2, 3));
}

TEST(AutoComplete, KeepsAnExplicitMaxBatchSizeAndStripsTheBatchDimension) {
  ModelConfig config = Parse("max_batch_size: 16");
  ASSERT_TRUE(CompleteAndValidate(config, BatchableMlp(), "mlp", kOnnx).ok());
  EXPECT_EQ(config.max_batch_size(), 16);
  EXPECT_THAT(config.input(0).dims(), ElementsAre(4));
}

TEST(AutoComplete, DoesNotTurnOnBatchingWhenTheConfigListsTensors) {
  ModelConfig config = Parse(R"(input { name: "x" data_type: TYPE_FP32 dims: [ -1, 4 ] })");
  ASSERT_TRUE(CompleteAndValidate(config, BatchableMlp(), "mlp", kOnnx).ok());
  EXPECT_EQ(config.max_batch_size(), 0);
  // The outputs it did not list are filled with full shapes.
  ASSERT_EQ(config.output_size(), 2);
  EXPECT_THAT(config.output(0).dims(), ElementsAre(-1, 2));
}

TEST(AutoComplete, AcceptsAMatchingFullConfig) {
  EXPECT_EQ(ErrorOf(R"(
      name: "mlp" platform: "onnxruntime_onnx" backend: "onnxruntime" max_batch_size: 8
      input { name: "x" data_type: TYPE_FP32 dims: [ 4 ] }
      output { name: "y" data_type: TYPE_FP32 dims: [ 2 ] }
      output { name: "probs" data_type: TYPE_FP32 dims: [ 2 ] }
      instance_group { count: 2 kind: KIND_CPU }
      dynamic_batching { preferred_batch_size: [ 4, 8 ] max_queue_delay_microseconds: 500 })",
                    BatchableMlp()),
            "");
}

TEST(AutoComplete, AcceptsASubsetOfTheModelOutputs) {
  ModelConfig config = Parse(R"(max_batch_size: 2
      output { name: "probs" data_type: TYPE_FP32 dims: [ 2 ] })");
  ASSERT_TRUE(CompleteAndValidate(config, BatchableMlp(), "mlp", kOnnx).ok());
  ASSERT_EQ(config.output_size(), 1);
  EXPECT_EQ(config.output(0).name(), "probs");
  EXPECT_EQ(config.input_size(), 1);
}

TEST(AutoComplete, AModelDynamicDimAcceptsAnyConfigDim) {
  EXPECT_EQ(ErrorOf(R"(input { name: "a" data_type: TYPE_INT64 dims: [ 2, 3 ] }
                       input { name: "b" data_type: TYPE_INT64 dims: [ 7 ] })",
                    FixedModel(), "adder"),
            "");
}

TEST(AutoComplete, ComparesTheReshapeRatherThanTheDims) {
  EXPECT_EQ(ErrorOf(R"(input { name: "a" data_type: TYPE_INT64 dims: [ 6 ]
                               reshape { shape: [ 2, 3 ] } }
                       input { name: "b" data_type: TYPE_INT64 dims: [ 7 ] })",
                    FixedModel(), "adder"),
            "");
}

TEST(AutoComplete, NormalizesInstanceGroups) {
  ModelConfig config = Parse(R"(instance_group { kind: KIND_AUTO }
                                instance_group { name: "pool" count: 3 kind: KIND_MODEL })");
  ASSERT_TRUE(CompleteAndValidate(config, BatchableMlp(), "mlp", kOnnx).ok());
  ASSERT_EQ(config.instance_group_size(), 2);
  EXPECT_EQ(config.instance_group(0).kind(), ModelInstanceGroup::KIND_CPU);
  EXPECT_EQ(config.instance_group(0).count(), 1);
  EXPECT_EQ(config.instance_group(0).name(), "mlp_0");
  EXPECT_EQ(config.instance_group(1).name(), "pool");
  EXPECT_EQ(config.instance_group(1).count(), 3);
}

TEST(AutoComplete, NormalizesLatestWithoutACountToOneVersion) {
  ModelConfig config = Parse("version_policy { latest {} }");
  ASSERT_TRUE(CompleteAndValidate(config, BatchableMlp(), "mlp", kOnnx).ok());
  EXPECT_EQ(config.version_policy().latest().num_versions(), 1u);
}

// --- contradictions between the config and the model file ---

TEST(AutoComplete, RejectsAConfigNameThatDiffersFromTheModelName) {
  EXPECT_THAT(ErrorOf(R"(name: "other")", BatchableMlp()),
              HasSubstr("model 'mlp': the config names the model 'other'"));
}

TEST(AutoComplete, RejectsAnotherPlatform) {
  EXPECT_THAT(ErrorOf(R"(platform: "tensorrt_plan")", BatchableMlp()),
              HasSubstr("platform 'tensorrt_plan' is not supported"));
}

TEST(AutoComplete, RejectsAnotherBackend) {
  EXPECT_THAT(ErrorOf(R"(backend: "python")", BatchableMlp()),
              HasSubstr("backend 'python' does not match the engine that loaded the model "
                        "(backend 'onnxruntime')"));
}

TEST(AutoComplete, RejectsBatchingForAModelWithoutABatchDimension) {
  EXPECT_THAT(ErrorOf("max_batch_size: 4", FixedModel(), "adder"),
              HasSubstr("model 'adder': config sets max_batch_size 4 but the model file declares "
                        "input 'a' with shape [2,3], without a dynamic leading batch dimension"));
}

TEST(AutoComplete, RejectsBatchingWhenAServedOutputHasNoBatchDimension) {
  ModelSignature signature = BatchableMlp();
  signature.outputs[1].dims = {2};
  EXPECT_THAT(ErrorOf("max_batch_size: 4", signature),
              HasSubstr("declares output 'probs' with shape [2]"));
  // Leaving that output out of the config makes the model servable with batching.
  EXPECT_EQ(ErrorOf(R"(max_batch_size: 4 output { name: "y" data_type: TYPE_FP32 dims: [ 2 ] })",
                    signature),
            "");
}

TEST(AutoComplete, RejectsADataTypeMismatch) {
  EXPECT_EQ(ErrorOf(R"(max_batch_size: 4 input { name: "x" data_type: TYPE_INT32 dims: [ 4 ] })",
                    BatchableMlp()),
            "model 'mlp': config input 'x' has data type TYPE_INT32 but the model file declares "
            "TYPE_FP32");
}

TEST(AutoComplete, RejectsAnOutputDataTypeMismatch) {
  EXPECT_THAT(
      ErrorOf(R"(max_batch_size: 4 output { name: "y" data_type: TYPE_FP16 dims: [ 2 ] })",
              BatchableMlp()),
      HasSubstr("config output 'y' has data type TYPE_FP16 but the model file declares TYPE_FP32"));
}

TEST(AutoComplete, RejectsARankMismatch) {
  EXPECT_EQ(ErrorOf(R"(max_batch_size: 4 input { name: "x" data_type: TYPE_FP32 dims: [ 4, 1 ] })",
                    BatchableMlp()),
            "model 'mlp': config input 'x' has dims [4,1] (shape [-1,4,1] with the batch "
            "dimension) but the model file declares shape [-1,4], a different rank");
}

TEST(AutoComplete, RejectsAFixedDimMismatch) {
  EXPECT_EQ(ErrorOf(R"(max_batch_size: 4 input { name: "x" data_type: TYPE_FP32 dims: [ 5 ] })",
                    BatchableMlp()),
            "model 'mlp': config input 'x' has dims [5] (shape [-1,5] with the batch dimension) "
            "but the model file declares shape [-1,4]");
}

TEST(AutoComplete, RejectsAVariableConfigDimWhereTheModelDimIsFixed) {
  EXPECT_THAT(ErrorOf(R"(input { name: "a" data_type: TYPE_INT64 dims: [ 2, -1 ] }
                         input { name: "b" data_type: TYPE_INT64 dims: [ 7 ] })",
                      FixedModel(), "adder"),
              HasSubstr("config input 'a' has dims [2,-1] but the model file declares shape "
                        "[2,3]"));
}

TEST(AutoComplete, RejectsAReshapeThatDoesNotFitTheModel) {
  EXPECT_THAT(ErrorOf(R"(input { name: "a" data_type: TYPE_INT64 dims: [ 6 ]
                                 reshape { shape: [ 3, 2 ] } }
                         input { name: "b" data_type: TYPE_INT64 dims: [ 7 ] })",
                      FixedModel(), "adder"),
              HasSubstr("config input 'a' has reshape [3,2] but the model file declares shape "
                        "[2,3]"));
}

TEST(AutoComplete, RejectsAnInputTheModelDoesNotHave) {
  EXPECT_THAT(ErrorOf(R"(max_batch_size: 4
                         input { name: "x" data_type: TYPE_FP32 dims: [ 4 ] }
                         input { name: "mask" data_type: TYPE_BOOL dims: [ 4 ] })",
                      BatchableMlp()),
              HasSubstr("config input 'mask' does not exist in the model file, whose inputs are "
                        "'x'"));
}

TEST(AutoComplete, RejectsAnOutputTheModelDoesNotHave) {
  EXPECT_THAT(ErrorOf(R"(max_batch_size: 4 output { name: "z" data_type: TYPE_FP32 dims: [ 2 ] })",
                      BatchableMlp()),
              HasSubstr("config output 'z' does not exist in the model file, whose outputs are "
                        "'y', 'probs'"));
}

TEST(AutoComplete, RejectsAConfigThatOmitsAModelInput) {
  EXPECT_THAT(
      ErrorOf(R"(input { name: "a" data_type: TYPE_INT64 dims: [ 2, 3 ] })", FixedModel(), "adder"),
      HasSubstr("the model file declares input 'b' but the config does not list it"));
}

TEST(AutoComplete, RejectsAModelTensorOfAnUnsupportedType) {
  ModelSignature signature = BatchableMlp();
  signature.inputs[0].dtype = inferd::DataType::kInvalid;
  EXPECT_THAT(ErrorOf("", signature),
              HasSubstr("the model file's input 'x' has an element type that inferd does not "
                        "support"));
}

TEST(AutoComplete, LeavesAGpuInstanceGroupForTheBackendToPlace) {
  ModelConfig config = Parse("instance_group { kind: KIND_GPU gpus: [ 0, 1 ] }");
  ASSERT_TRUE(CompleteAndValidate(config, BatchableMlp(), "mlp", kOnnx).ok());
  EXPECT_EQ(config.instance_group(0).kind(), ModelInstanceGroup::KIND_GPU);
  EXPECT_EQ(config.instance_group(0).gpus_size(), 2);
}

TEST(AutoComplete, CompletesThePlatformAndBackendOfTheEngineThatLoadedTheModel) {
  ModelConfig config;
  ASSERT_TRUE(
      CompleteAndValidate(config, BatchableMlp(), "mlp", EngineNames{"pytorch_libtorch", "pytorch"})
          .ok());
  EXPECT_EQ(config.platform(), "pytorch_libtorch");
  EXPECT_EQ(config.backend(), "pytorch");
}

TEST(AutoComplete, RejectsANegativeInstanceCount) {
  EXPECT_THAT(ErrorOf("instance_group { count: -1 kind: KIND_CPU }", BatchableMlp()),
              HasSubstr("has count -1; it must be at least 1"));
}

TEST(AutoComplete, RejectsANegativeMaxBatchSize) {
  EXPECT_THAT(ErrorOf("max_batch_size: -2", BatchableMlp()),
              HasSubstr("max_batch_size is -2; it must be >= 0"));
}

TEST(AutoComplete, RejectsDynamicBatchingWithoutBatching) {
  EXPECT_THAT(ErrorOf("dynamic_batching {}", FixedModel(), "adder"),
              HasSubstr("dynamic_batching requires max_batch_size > 0"));
}

TEST(AutoComplete, RejectsAPreferredBatchSizeAboveTheMaximum) {
  EXPECT_THAT(ErrorOf("max_batch_size: 4 dynamic_batching { preferred_batch_size: [ 2, 8 ] }",
                      BatchableMlp()),
              HasSubstr("preferred_batch_size 8 must be between 1 and max_batch_size 4"));
}

}  // namespace
}  // namespace inferd::config
