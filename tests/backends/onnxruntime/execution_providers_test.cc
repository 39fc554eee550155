#include "backends/onnxruntime/execution_providers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/model_config_parser.h"

namespace inferd::backends::ort {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

const std::vector<std::string> kCpuBuild = {"CPUExecutionProvider"};
const std::vector<std::string> kGpuBuild = {"TensorrtExecutionProvider", "CUDAExecutionProvider",
                                            "CPUExecutionProvider"};
const std::vector<std::string> kEverything = {"TensorrtExecutionProvider", "CUDAExecutionProvider",
                                              "OpenVINOExecutionProvider", "DnnlExecutionProvider",
                                              "XnnpackExecutionProvider",  "CPUExecutionProvider"};

config::ModelConfig Parse(const char* text) {
  auto c = config::ParseModelConfig(text, "test");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : config::ModelConfig();
}

std::vector<std::string> Names(const ProviderPlan& plan) {
  std::vector<std::string> out;
  for (const auto& ep : plan.providers) out.push_back(ep.provider);
  return out;
}

constexpr char kTensorRtAndOpenVino[] = R"(
  optimization { execution_accelerators {
    gpu_execution_accelerator : [ { name : "tensorrt"
                                    parameters { key: "precision_mode" value: "FP16" }
                                    parameters { key: "max_workspace_size_bytes" value: "1073741824" } } ]
    cpu_execution_accelerator : [ { name : "openvino" } ]
  } })";

TEST(ExecutionProviders, CpuInstanceWithoutAcceleratorsUsesOnlyTheDefaultProvider) {
  auto plan = PlanExecutionProviders(Parse(""), false, 0, kCpuBuild);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_TRUE(plan->providers.empty());
}

TEST(ExecutionProviders, GpuInstanceOrdersGpuAcceleratorsThenCudaThenCpuAccelerators) {
  auto plan = PlanExecutionProviders(Parse(kTensorRtAndOpenVino), true, 1, kEverything);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_THAT(Names(*plan), ElementsAre("TensorrtExecutionProvider", "CUDAExecutionProvider",
                                        "OpenVINOExecutionProvider"));
  EXPECT_THAT(plan->providers[0].options,
              ElementsAre(Pair("device_id", "1"), Pair("trt_fp16_enable", "1"),
                          Pair("trt_max_workspace_size", "1073741824")));
  EXPECT_EQ(plan->providers[1].options.at("device_id"), "1");
}

TEST(ExecutionProviders, CpuInstanceIgnoresGpuAccelerators) {
  auto plan = PlanExecutionProviders(Parse(kTensorRtAndOpenVino), false, 0, kEverything);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_THAT(Names(*plan), ElementsAre("OpenVINOExecutionProvider"));
}

TEST(ExecutionProviders, CudaAcceleratorParametersConfigureTheCudaProvider) {
  auto plan = PlanExecutionProviders(Parse(R"(
    optimization { execution_accelerators { gpu_execution_accelerator : [ {
      name : "cuda" parameters { key: "cudnn_conv_use_max_workspace" value: "0" } } ] } }
    parameters { key: "cudnn_conv_algo_search" value: { string_value: "1" } }
    parameters { key: "arena_extend_strategy" value: { string_value: "1" } })"),
                                     true, 0, kGpuBuild);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_THAT(Names(*plan), ElementsAre("CUDAExecutionProvider"));
  EXPECT_THAT(plan->providers[0].options,
              ElementsAre(Pair("arena_extend_strategy", "kSameAsRequested"),
                          Pair("cudnn_conv_algo_search", "HEURISTIC"),
                          Pair("cudnn_conv_use_max_workspace", "0"), Pair("device_id", "0")));
}

TEST(ExecutionProviders, GpuInstanceOnACpuBuildNamesCudaAndTheProvidersTheBuildHas) {
  auto plan = PlanExecutionProviders(Parse(""), true, 0, kCpuBuild);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(plan.status().message(),
              HasSubstr("an instance on GPU 0 (instance_group kind KIND_GPU) needs ONNX "
                        "Runtime's CUDAExecutionProvider, which this ONNX Runtime build does "
                        "not have (it has CPUExecutionProvider)"));
}

TEST(ExecutionProviders, MissingTensorRtIsAnErrorNotASilentFallback) {
  const std::vector<std::string> cuda_only = {"CUDAExecutionProvider", "CPUExecutionProvider"};
  auto plan = PlanExecutionProviders(Parse(kTensorRtAndOpenVino), true, 0, cuda_only);
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(),
              HasSubstr("gpu_execution_accelerator 'tensorrt' needs ONNX Runtime's "
                        "TensorrtExecutionProvider"));
}

TEST(ExecutionProviders, MissingCpuAcceleratorIsAnError) {
  for (const char* name : {"openvino", "dnnl", "xnnpack"}) {
    const std::string text = std::string(
                                 "optimization { execution_accelerators { "
                                 "cpu_execution_accelerator : [ { name : \"") +
                             name + "\" } ] } }";
    auto plan = PlanExecutionProviders(Parse(text.c_str()), false, 0, kCpuBuild);
    ASSERT_FALSE(plan.ok()) << name;
    EXPECT_THAT(plan.status().message(),
                HasSubstr(std::string("cpu_execution_accelerator '") + name + "' needs"));
    EXPECT_THAT(plan.status().message(), HasSubstr("(it has CPUExecutionProvider)"));
  }
}

TEST(ExecutionProviders, FallbackCpuLeavesOutWhatTheBuildLacksAndSaysSo) {
  const std::string text = std::string(kTensorRtAndOpenVino) +
                           R"(parameters { key: "execution_accelerator_fallback"
                                           value: { string_value: "cpu" } })";
  auto plan = PlanExecutionProviders(Parse(text.c_str()), true, 0, kCpuBuild);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_TRUE(plan->providers.empty());
  EXPECT_FALSE(plan->on_gpu);
  EXPECT_THAT(plan->skipped,
              ElementsAre("CUDAExecutionProvider (not in this ONNX Runtime build)",
                          "OpenVINOExecutionProvider (not in this ONNX Runtime build)"));
}

TEST(ExecutionProviders, RejectsAnUnknownAcceleratorName) {
  auto plan = PlanExecutionProviders(Parse(R"(optimization { execution_accelerators {
                 cpu_execution_accelerator : [ { name : "tensorrt" } ] } })"),
                                     false, 0, kEverything);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(),
              HasSubstr("cpu_execution_accelerator 'tensorrt' is not known; expected openvino, "
                        "dnnl or xnnpack"));
}

TEST(ExecutionProviders, RejectsABadTensorRtPrecision) {
  auto plan = PlanExecutionProviders(
      Parse(R"(optimization { execution_accelerators { gpu_execution_accelerator : [ {
                 name : "tensorrt" parameters { key: "precision_mode" value: "FP8" } } ] } })"),
      true, 0, kGpuBuild);
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(), HasSubstr("precision_mode is 'FP8'"));
}

}  // namespace
}  // namespace inferd::backends::ort
