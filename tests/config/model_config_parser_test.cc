#include "config/model_config_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "config/model_config_queries.h"

namespace inferd::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::filesystem::path TestData(const char* name) {
  const char* root = std::getenv("INFERD_SOURCE_DIR");
  std::filesystem::path base = root ? root : INFERD_TEST_SOURCE_DIR;
  return base / "tests" / "config" / "testdata" / name;
}

TEST(ModelConfigParser, ReadsATritonStyleConfigWithEverySection) {
  auto config = ReadModelConfigFile(TestData("image_classifier.pbtxt"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();

  EXPECT_EQ(config->name(), "image_classifier");
  EXPECT_EQ(config->platform(), "onnxruntime_onnx");
  EXPECT_EQ(config->max_batch_size(), 8);
  ASSERT_TRUE(config->version_policy().has_latest());
  EXPECT_EQ(config->version_policy().latest().num_versions(), 2u);

  ASSERT_EQ(config->input_size(), 2);
  EXPECT_EQ(config->input(0).name(), "image");
  EXPECT_EQ(config->input(0).data_type(), TYPE_FP32);
  EXPECT_EQ(config->input(0).format(), ModelInput::FORMAT_NCHW);
  EXPECT_THAT(config->input(0).dims(), ElementsAre(3, 224, 224));
  EXPECT_TRUE(config->input(1).optional());

  ASSERT_EQ(config->output_size(), 2);
  EXPECT_EQ(config->output(0).label_filename(), "labels.txt");
  EXPECT_EQ(config->output(1).data_type(), TYPE_INT64);
  EXPECT_THAT(config->output(1).dims(), ElementsAre(1));

  ASSERT_EQ(config->instance_group_size(), 1);
  EXPECT_EQ(config->instance_group(0).count(), 2);
  EXPECT_EQ(config->instance_group(0).kind(), ModelInstanceGroup::KIND_CPU);

  ASSERT_TRUE(config->has_dynamic_batching());
  const auto& batching = config->dynamic_batching();
  EXPECT_THAT(batching.preferred_batch_size(), ElementsAre(4, 8));
  EXPECT_EQ(batching.max_queue_delay_microseconds(), 100u);
  EXPECT_EQ(batching.priority_levels(), 2u);
  EXPECT_EQ(batching.default_priority_level(), 2u);
  EXPECT_EQ(batching.default_queue_policy().max_queue_size(), 16u);
  ASSERT_EQ(batching.priority_queue_policy().count(1), 1u);
  const auto& high = batching.priority_queue_policy().at(1);
  EXPECT_EQ(high.timeout_action(), ModelQueuePolicy::DELAY);
  EXPECT_EQ(high.default_timeout_microseconds(), 5000u);
  EXPECT_TRUE(high.allow_timeout_override());

  EXPECT_EQ(GetParameter(*config, "intra_op_thread_count"), "1");
  EXPECT_EQ(GetParameter(*config, "enable_mem_arena"), "true");

  ASSERT_EQ(config->model_warmup_size(), 1);
  const auto& warmup = config->model_warmup(0);
  EXPECT_EQ(warmup.batch_size(), 1u);
  ASSERT_EQ(warmup.inputs().count("image"), 1u);
  EXPECT_TRUE(warmup.inputs().at("image").has_zero_data());

  EXPECT_TRUE(config->response_cache().enable());
}

TEST(ModelConfigParser, ReadsTritonsOptimizationBlockAndGpuGroups) {
  auto config = ReadModelConfigFile(TestData("optimization.pbtxt"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->instance_group(0).kind(), ModelInstanceGroup::KIND_GPU);
  EXPECT_THAT(config->instance_group(0).gpus(), ElementsAre(0, 1));
  const auto& opt = config->optimization();
  EXPECT_EQ(opt.graph().level(), -1);
  EXPECT_EQ(opt.priority(), ModelOptimizationPolicy::PRIORITY_MAX);
  EXPECT_TRUE(opt.cuda().graphs());
  EXPECT_TRUE(opt.eager_batching());
  EXPECT_EQ(opt.gather_kernel_buffer_threshold(), 4u);
  const auto& accelerators = opt.execution_accelerators();
  ASSERT_EQ(accelerators.gpu_execution_accelerator_size(), 2);
  EXPECT_EQ(accelerators.gpu_execution_accelerator(0).name(), "tensorrt");
  EXPECT_EQ(accelerators.gpu_execution_accelerator(0).parameters().at("precision_mode"), "FP16");
  EXPECT_EQ(accelerators.gpu_execution_accelerator(1).name(), "cuda");
  ASSERT_EQ(accelerators.cpu_execution_accelerator_size(), 1);
  EXPECT_EQ(accelerators.cpu_execution_accelerator(0).name(), "openvino");
}

TEST(ModelConfigParser, UnknownFieldErrorNamesFileLineAndField) {
  auto path = TestData("unknown_field.pbtxt");
  auto config = ReadModelConfigFile(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), StartsWith(path.string() + ":6:"));
  EXPECT_THAT(config.status().message(), HasSubstr("model_transaction_policy"));
}

TEST(ModelConfigParser, SyntaxErrorNamesSourceLineAndColumn) {
  auto config = ParseModelConfig("name: \"m\"\nmax_batch_size: 4\ninput [ { name: \"x\" ",
                                 "models/m/config.pbtxt");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), StartsWith("models/m/config.pbtxt:3:"));
}

TEST(ModelConfigParser, BadValueIsAnErrorOnItsLine) {
  auto config = ParseModelConfig("name: \"m\"\n\n  max_batch_size: \"four\"\n", "config.pbtxt");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), StartsWith("config.pbtxt:3:19: "));
}

TEST(ModelConfigParser, UnknownEnumValueIsAnError) {
  auto config = ParseModelConfig("input { name: \"x\" data_type: TYPE_FLOAT }", "c");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("TYPE_FLOAT"));
}

TEST(ModelConfigParser, FieldSetTwiceIsAnError) {
  auto config = ParseModelConfig("max_batch_size: 1\nmax_batch_size: 2\n", "c");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), StartsWith("c:2:"));
}

TEST(ModelConfigParser, EmptyTextIsAnEmptyConfig) {
  auto config = ParseModelConfig("", "c");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->name(), "");
  EXPECT_EQ(config->max_batch_size(), 0);
}

TEST(ModelConfigParser, MissingFileIsNotFound) {
  auto config = ReadModelConfigFile(TestData("no_such_config.pbtxt"));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(config.status().message(), HasSubstr("no_such_config.pbtxt"));
}

}  // namespace
}  // namespace inferd::config
