// Guards wire compatibility with Triton's model_config.proto: unmodified Triton clients decode
// the ModelConfig RPC's bytes with Triton's field numbers and enum values.
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include "config/model_config.pb.h"

namespace inferd::config {
namespace {

using google::protobuf::Descriptor;

int FieldNumber(const Descriptor* message, const char* field) {
  const auto* descriptor = message->FindFieldByName(field);
  return descriptor ? descriptor->number() : -1;
}

TEST(ModelConfigProto, UsesTritonFieldNumbers) {
  const Descriptor* config = ModelConfig::descriptor();
  EXPECT_EQ(FieldNumber(config, "name"), 1);
  EXPECT_EQ(FieldNumber(config, "platform"), 2);
  EXPECT_EQ(FieldNumber(config, "version_policy"), 3);
  EXPECT_EQ(FieldNumber(config, "max_batch_size"), 4);
  EXPECT_EQ(FieldNumber(config, "input"), 5);
  EXPECT_EQ(FieldNumber(config, "output"), 6);
  EXPECT_EQ(FieldNumber(config, "instance_group"), 7);
  EXPECT_EQ(FieldNumber(config, "default_model_filename"), 8);
  EXPECT_EQ(FieldNumber(config, "dynamic_batching"), 11);
  EXPECT_EQ(FieldNumber(config, "parameters"), 14);
  EXPECT_EQ(FieldNumber(config, "model_warmup"), 16);
  EXPECT_EQ(FieldNumber(config, "backend"), 17);
  EXPECT_EQ(FieldNumber(config, "response_cache"), 24);

  const Descriptor* input = ModelInput::descriptor();
  EXPECT_EQ(FieldNumber(input, "dims"), 4);
  EXPECT_EQ(FieldNumber(input, "reshape"), 5);
  EXPECT_EQ(FieldNumber(input, "optional"), 8);
  const Descriptor* output = ModelOutput::descriptor();
  EXPECT_EQ(FieldNumber(output, "dims"), 3);
  EXPECT_EQ(FieldNumber(output, "label_filename"), 4);
  EXPECT_EQ(FieldNumber(output, "reshape"), 5);
  const Descriptor* group = ModelInstanceGroup::descriptor();
  EXPECT_EQ(FieldNumber(group, "count"), 2);
  EXPECT_EQ(FieldNumber(group, "gpus"), 3);
  EXPECT_EQ(FieldNumber(group, "kind"), 4);
  const Descriptor* batching = ModelDynamicBatching::descriptor();
  EXPECT_EQ(FieldNumber(batching, "default_queue_policy"), 6);
  EXPECT_EQ(FieldNumber(batching, "priority_queue_policy"), 7);
  EXPECT_EQ(FieldNumber(ModelWarmup::Input::descriptor(), "input_data_file"), 5);

  EXPECT_EQ(FieldNumber(config, "optimization"), 12);
  const Descriptor* optimization = ModelOptimizationPolicy::descriptor();
  EXPECT_EQ(FieldNumber(optimization, "graph"), 1);
  EXPECT_EQ(FieldNumber(optimization, "priority"), 2);
  EXPECT_EQ(FieldNumber(optimization, "cuda"), 3);
  EXPECT_EQ(FieldNumber(optimization, "execution_accelerators"), 4);
  EXPECT_EQ(FieldNumber(optimization, "input_pinned_memory"), 5);
  EXPECT_EQ(FieldNumber(optimization, "output_pinned_memory"), 6);
  EXPECT_EQ(FieldNumber(optimization, "gather_kernel_buffer_threshold"), 7);
  EXPECT_EQ(FieldNumber(optimization, "eager_batching"), 8);
  EXPECT_EQ(FieldNumber(ModelOptimizationPolicy::Graph::descriptor(), "level"), 1);
  EXPECT_EQ(FieldNumber(ModelOptimizationPolicy::Cuda::descriptor(), "output_copy_stream"), 4);
  const Descriptor* accelerators = ModelOptimizationPolicy::ExecutionAccelerators::descriptor();
  EXPECT_EQ(FieldNumber(accelerators, "gpu_execution_accelerator"), 1);
  EXPECT_EQ(FieldNumber(accelerators, "cpu_execution_accelerator"), 2);
  const Descriptor* accelerator =
      ModelOptimizationPolicy::ExecutionAccelerators::Accelerator::descriptor();
  EXPECT_EQ(FieldNumber(accelerator, "name"), 1);
  EXPECT_EQ(FieldNumber(accelerator, "parameters"), 2);
}

TEST(ModelConfigProto, UsesTritonEnumValues) {
  EXPECT_EQ(TYPE_STRING, 13);
  EXPECT_EQ(TYPE_BF16, 14);
  EXPECT_EQ(ModelInstanceGroup::KIND_CPU, 2);
  EXPECT_EQ(ModelInstanceGroup::KIND_MODEL, 3);
  EXPECT_EQ(ModelInput::FORMAT_NCHW, 2);
  EXPECT_EQ(ModelQueuePolicy::DELAY, 1);
}

TEST(ModelConfigProto, IsImportedAsConfigSlashModelConfigProto) {
  EXPECT_EQ(ModelConfig::descriptor()->file()->name(), "config/model_config.proto");
}

}  // namespace
}  // namespace inferd::config
