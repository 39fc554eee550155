#include "config/model_config_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/model_config_parser.h"

namespace inferd::config {
namespace {

using ::testing::HasSubstr;

// The message of ValidateModelConfig on the parsed text, or "" when it is valid.
std::string ErrorOf(const char* text) {
  auto config = ParseModelConfig(text, "test");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  if (!config.ok()) return "(did not parse)";
  Status status = ValidateModelConfig(*config);
  if (status.ok()) return "";
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  return status.message();
}

constexpr char kValid[] = R"(
    name: "m" max_batch_size: 4
    input { name: "x" data_type: TYPE_FP32 dims: [ -1, 3 ] }
    output { name: "y" data_type: TYPE_FP32 dims: [ 3 ] label_filename: "labels/y.txt" })";

TEST(ModelConfigValidation, AcceptsAWellFormedConfig) { EXPECT_EQ(ErrorOf(kValid), ""); }

TEST(ModelConfigValidation, MessagesStartWithTheModelName) {
  EXPECT_THAT(ErrorOf(R"(name: "m" input { data_type: TYPE_FP32 })"),
              HasSubstr("model 'm': a config input has no name"));
}

TEST(ModelConfigValidation, RejectsDuplicateTensorNames) {
  EXPECT_THAT(ErrorOf(R"(input { name: "x" data_type: TYPE_FP32 }
                         input { name: "x" data_type: TYPE_FP32 })"),
              HasSubstr("config input 'x' is listed twice"));
  EXPECT_THAT(ErrorOf(R"(output { name: "y" data_type: TYPE_FP32 }
                         output { name: "y" data_type: TYPE_FP32 })"),
              HasSubstr("config output 'y' is listed twice"));
}

TEST(ModelConfigValidation, RejectsAMissingDataType) {
  EXPECT_THAT(ErrorOf(R"(output { name: "y" dims: [ 1 ] })"),
              HasSubstr("config output 'y' has no valid data_type"));
}

TEST(ModelConfigValidation, RejectsNegativeDimsOtherThanVariable) {
  EXPECT_THAT(ErrorOf(R"(input { name: "x" data_type: TYPE_FP32 dims: [ 3, -2 ] })"),
              HasSubstr("config input 'x' has dims [3,-2]; each dimension must be >= 0, or -1"));
}

// ONNX models may declare zero-sized tensors (an empty `axes` input of ReduceSum); the config
// auto-complete writes from them must validate.
TEST(ModelConfigValidation, AcceptsAZeroSizedDim) {
  EXPECT_EQ(ErrorOf(R"(name: "m"
                       input { name: "x" data_type: TYPE_INT64 dims: [ 0 ] }
                       output { name: "y" data_type: TYPE_FP32 dims: [ 3 ] })"),
            "");
}

TEST(ModelConfigValidation, RejectsAReshapeThatChangesTheElementCount) {
  EXPECT_THAT(ErrorOf(R"(input { name: "x" data_type: TYPE_FP32 dims: [ 6 ]
                                 reshape { shape: [ 4, 2 ] } })"),
              HasSubstr("has dims [6] (6 elements) but reshape [4,2] (8 elements)"));
}

TEST(ModelConfigValidation, RejectsShapeTensors) {
  EXPECT_THAT(ErrorOf(R"(input { name: "x" data_type: TYPE_INT32 is_shape_tensor: true })"),
              HasSubstr("only TensorRT models support"));
}

TEST(ModelConfigValidation, RejectsAnImageFormatWithoutThreeDims) {
  EXPECT_THAT(ErrorOf(R"(input { name: "x" data_type: TYPE_FP32 format: FORMAT_NHWC
                                 dims: [ 224, 224 ] })"),
              HasSubstr("has format FORMAT_NHWC and so needs 3 dims"));
}

TEST(ModelConfigValidation, RejectsPriorityLevelsOutOfRange) {
  EXPECT_THAT(ErrorOf("max_batch_size: 4 dynamic_batching { priority_levels: 2 "
                      "default_priority_level: 3 }"),
              HasSubstr("default_priority_level 3 must be between 1 and priority_levels 2"));
  EXPECT_THAT(ErrorOf("max_batch_size: 4 dynamic_batching { priority_levels: 2 "
                      "default_priority_level: 1 priority_queue_policy { key: 5 value {} } }"),
              HasSubstr("priority_queue_policy level 5"));
  EXPECT_THAT(ErrorOf("max_batch_size: 4 dynamic_batching { default_priority_level: 1 }"),
              HasSubstr("priority_levels is 0"));
}

TEST(ModelConfigValidation, RejectsGpusOnACpuGroup) {
  EXPECT_THAT(ErrorOf("instance_group { kind: KIND_CPU gpus: [ 0 ] }"),
              HasSubstr("instance_group #0 lists gpus"));
}

TEST(ModelConfigValidation, RejectsFileNamesThatLeaveTheModelDirectory) {
  EXPECT_THAT(ErrorOf(R"(default_model_filename: "../other/model.onnx")"),
              HasSubstr("default_model_filename '../other/model.onnx' must be a relative path"));
  EXPECT_THAT(ErrorOf(R"(output { name: "y" data_type: TYPE_FP32 label_filename: "/etc/passwd" })"),
              HasSubstr("label_filename '/etc/passwd' must be a relative path"));
}

TEST(ModelConfigValidation, AcceptsAWarmupThatCoversEveryInput) {
  EXPECT_EQ(ErrorOf(R"(max_batch_size: 4
      input { name: "x" data_type: TYPE_FP32 dims: [ -1, 3 ] }
      input { name: "opt" data_type: TYPE_FP32 dims: [ 1 ] optional: true }
      model_warmup { name: "w" batch_size: 4
                     inputs { key: "x" value { data_type: TYPE_FP32 dims: [ 5, 3 ]
                                               input_data_file: "x.bin" } } })"),
            "");
}

TEST(ModelConfigValidation, RejectsAWarmupThatDoesNotFitTheInputs) {
  const char* prefix = R"(max_batch_size: 2
      input { name: "x" data_type: TYPE_FP32 dims: [ 3 ] } )";
  auto with = [&](const char* warmup) { return ErrorOf((std::string(prefix) + warmup).c_str()); };
  EXPECT_THAT(with(R"(model_warmup { name: "w" batch_size: 3
      inputs { key: "x" value { data_type: TYPE_FP32 dims: [ 3 ] zero_data: true } } })"),
              HasSubstr("model_warmup 'w' has batch_size 3, more than the model allows (2)"));
  EXPECT_THAT(with(R"(model_warmup { name: "w" })"),
              HasSubstr("model_warmup 'w' has no data for config input 'x'"));
  EXPECT_THAT(with(R"(model_warmup { name: "w"
      inputs { key: "z" value { data_type: TYPE_FP32 dims: [ 3 ] zero_data: true } } })"),
              HasSubstr("has data for 'z', which is not a config input"));
  EXPECT_THAT(with(R"(model_warmup { name: "w"
      inputs { key: "x" value { data_type: TYPE_INT8 dims: [ 3 ] zero_data: true } } })"),
              HasSubstr("input 'x' has data type TYPE_INT8 but the config input has TYPE_FP32"));
  EXPECT_THAT(with(R"(model_warmup { name: "w"
      inputs { key: "x" value { data_type: TYPE_FP32 dims: [ 4 ] random_data: true } } })"),
              HasSubstr("input 'x' has dims [4], which is not a concrete shape"));
  EXPECT_THAT(with(R"(model_warmup { name: "w"
      inputs { key: "x" value { data_type: TYPE_FP32 dims: [ 3 ] } } })"),
              HasSubstr("sets none of zero_data, random_data and input_data_file"));
  EXPECT_THAT(with(R"(model_warmup { name: "w"
      inputs { key: "x" value { data_type: TYPE_FP32 dims: [ 3 ] input_data_file: "../x" } } })"),
              HasSubstr("must be a relative path inside the model directory"));
}

constexpr char kPadded[] = R"(
    name: "m" max_batch_size: 8
    input { name: "tokens" data_type: TYPE_INT64 dims: [ -1 ] }
    input { name: "mask" data_type: TYPE_FP32 dims: [ -1 ] }
    output { name: "per_token" data_type: TYPE_FP32 dims: [ -1, 4 ] }
    output { name: "pooled" data_type: TYPE_FP32 dims: [ 4 ] }
    dynamic_batching {
      padding {
        input { name: "tokens" } input { name: "mask" pad_value: 0 }
        length_buckets: [ 8, 16, 32 ]
        lengths_input: "lengths" lengths_data_type: TYPE_INT32
        output: "per_token"
      }
    })";

std::string PaddedWith(const std::string& from, const std::string& to) {
  std::string text = kPadded;
  text.replace(text.find(from), from.size(), to);
  return text;
}

TEST(ModelConfigValidation, AcceptsPaddedBatching) { EXPECT_EQ(ErrorOf(kPadded), ""); }

TEST(ModelConfigValidation, RejectsPaddingThatCannotWork) {
  EXPECT_THAT(ErrorOf(PaddedWith("input { name: \"tokens\" }", "input { name: \"t\" }").c_str()),
              HasSubstr("padding input 't' is not a config input"));
  EXPECT_THAT(ErrorOf(PaddedWith("TYPE_INT64 dims: [ -1 ]", "TYPE_INT64 dims: [ 5 ]").c_str()),
              HasSubstr("padding input 'tokens' has dims [5]; a padded input needs exactly one -1"));
  EXPECT_THAT(ErrorOf(PaddedWith("[ 8, 16, 32 ]", "[ 8, 32, 16 ]").c_str()),
              HasSubstr("length_buckets must be positive and ascending; 16 follows 32"));
  EXPECT_THAT(ErrorOf(PaddedWith("length_buckets: [ 8, 16, 32 ]", "").c_str()),
              HasSubstr("padding needs length_buckets"));
  EXPECT_THAT(ErrorOf(PaddedWith("lengths_input: \"lengths\"", "lengths_input: \"mask\"").c_str()),
              HasSubstr("lengths_input 'mask' is fed by the server"));
  EXPECT_THAT(ErrorOf(PaddedWith("TYPE_INT32\n", "TYPE_FP32\n").c_str()),
              HasSubstr("lengths_data_type must be TYPE_INT32 or TYPE_INT64"));
  EXPECT_THAT(ErrorOf(PaddedWith("output: \"per_token\"", "output: \"pooled\"").c_str()),
              HasSubstr("padding output 'pooled' has dims [4]"));
}

}  // namespace
}  // namespace inferd::config
