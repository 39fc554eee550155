// The metadata, repository index and statistics messages built from the facade's answers.
#include "grpc/metadata_messages.h"

#include <gtest/gtest.h>

namespace inferd::grpc {
namespace {

TEST(MetadataMessages, ModelMetadataHasStringVersionsAndFullShapes) {
  server::ModelMetadata m{"mlp",
                          {1, 3},
                          "onnxruntime_onnx",
                          {{"input", DataType::kFp32, {-1, 64}}},
                          {{"logits", DataType::kFp32, {-1, 10}}}};
  inference::ModelMetadataResponse out;
  FillModelMetadata(m, &out);
  EXPECT_EQ(out.name(), "mlp");
  ASSERT_EQ(out.versions_size(), 2);
  EXPECT_EQ(out.versions(1), "3");
  EXPECT_EQ(out.platform(), "onnxruntime_onnx");
  ASSERT_EQ(out.inputs_size(), 1);
  EXPECT_EQ(out.inputs(0).datatype(), "FP32");
  EXPECT_EQ(out.inputs(0).shape(0), -1);
  EXPECT_EQ(out.outputs(0).name(), "logits");
}

TEST(MetadataMessages, RepositoryIndexWritesEveryEntryWithStringVersions) {
  handler::IndexEntry ready{"a", 1, "READY", "", "latest", handler::IndexEntry::ColdStart{}};
  handler::IndexEntry failed{"a", 2, "UNAVAILABLE", "boom", "latest", std::nullopt};
  handler::IndexEntry no_version{"b", std::nullopt, "UNAVAILABLE", "no versions", "", std::nullopt};
  inference::RepositoryIndexResponse all;
  FillRepositoryIndex({ready, failed, no_version}, &all);
  ASSERT_EQ(all.models_size(), 3);
  EXPECT_EQ(all.models(0).state(), "READY");
  EXPECT_EQ(all.models(1).version(), "2");
  EXPECT_EQ(all.models(1).state(), "UNAVAILABLE");
  EXPECT_EQ(all.models(1).reason(), "boom");
  EXPECT_EQ(all.models(2).name(), "b");
  EXPECT_EQ(all.models(2).version(), "");
}

TEST(MetadataMessages, StatisticsCarryEveryCounter) {
  server::ModelStatistics s;
  s.name = "mlp";
  s.version = 1;
  s.last_inference_ms = 1234;
  s.inference_count = 10;
  s.execution_count = 4;
  s.success = {10, 1000};
  s.queue = {10, 50};
  s.compute_infer = {4, 700};
  inference::ModelStatisticsResponse out;
  FillModelStatistics({s}, &out);
  ASSERT_EQ(out.model_stats_size(), 1);
  const auto& m = out.model_stats(0);
  EXPECT_EQ(m.version(), "1");
  EXPECT_EQ(m.last_inference(), 1234u);
  EXPECT_EQ(m.inference_count(), 10u);
  EXPECT_EQ(m.execution_count(), 4u);
  EXPECT_EQ(m.inference_stats().success().ns(), 1000u);
  EXPECT_EQ(m.inference_stats().queue().count(), 10u);
  EXPECT_EQ(m.inference_stats().compute_infer().ns(), 700u);
}

}  // namespace
}  // namespace inferd::grpc
