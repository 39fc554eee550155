#include "backends/onnxruntime/onnxruntime_backend.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace inferd::backends {
namespace {

std::filesystem::path ExampleModel(const std::string& name) {
  const char* root = std::getenv("INFERD_SOURCE_DIR");
  return std::filesystem::path(root ? root : ".") / "examples/models" / name / "1/model.onnx";
}

class OnnxRuntimeBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = CreateOnnxRuntimeBackend();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend_ = std::move(b).value();
  }
  std::unique_ptr<Backend> backend_;
};

Tensor Fp32(const std::string& name, Shape shape, float start) {
  Tensor t(name, DataType::kFp32, std::move(shape));
  auto bytes = t.AllocateData(static_cast<size_t>(t.element_count()) * sizeof(float));
  auto* f = reinterpret_cast<float*>(bytes.data());
  for (int64_t i = 0; i < t.element_count(); ++i) f[i] = start + static_cast<float>(i);
  return t;
}

TEST_F(OnnxRuntimeBackendTest, ReportsTheModelSignature) {
  auto inst = backend_->CreateInstance(ExampleModel("simple"), {}, {1, 1});
  ASSERT_TRUE(inst.ok()) << inst.status().ToString();
  const auto& sig = (*inst)->signature();
  ASSERT_EQ(sig.inputs.size(), 2u);
  EXPECT_EQ(sig.inputs[0].name, "INPUT0");
  EXPECT_EQ(sig.inputs[0].dtype, DataType::kFp32);
  EXPECT_EQ(sig.inputs[0].dims, (std::vector<int64_t>{-1, 16}));
  ASSERT_EQ(sig.outputs.size(), 2u);
  EXPECT_EQ(sig.outputs[1].name, "OUTPUT1");
}

TEST_F(OnnxRuntimeBackendTest, ExecutesAndReturnsTheRequestedOutputsInOrder) {
  auto inst = backend_->CreateInstance(ExampleModel("simple"), {}, {1, 1});
  ASSERT_TRUE(inst.ok());
  std::vector<Tensor> inputs = {Fp32("INPUT0", {2, 16}, 10), Fp32("INPUT1", {2, 16}, 0)};
  std::vector<std::string> outputs = {"OUTPUT1", "OUTPUT0"};
  backends::ExecutionTimings timings;
  auto r = (*inst)->Execute(inputs, outputs, &timings);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(timings.infer_ns, 0u);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name(), "OUTPUT1");
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 16}));
  for (float v : (*r)[0].As<float>()) EXPECT_FLOAT_EQ(v, 10.0f);  // (10+i) - i
  auto sum = (*r)[1].As<float>();
  EXPECT_FLOAT_EQ(sum[31], 10.0f + 31 + 31);
}

TEST_F(OnnxRuntimeBackendTest, EngineErrorsBecomeInternalStatus) {
  auto inst = backend_->CreateInstance(ExampleModel("simple"), {}, {1, 1});
  ASSERT_TRUE(inst.ok());
  std::vector<Tensor> inputs = {Fp32("INPUT0", {1, 16}, 0), Fp32("INPUT1", {1, 8}, 0)};
  std::vector<std::string> outputs = {"OUTPUT0"};
  auto r = (*inst)->Execute(inputs, outputs, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST_F(OnnxRuntimeBackendTest, ACorruptModelFileIsALoadError) {
  auto path = std::filesystem::temp_directory_path() / "inferd_corrupt_model.onnx";
  std::ofstream(path) << "this is not an onnx model";
  auto inst = backend_->CreateInstance(path, {}, {1, 1});
  ASSERT_FALSE(inst.ok());
  EXPECT_NE(inst.status().message().find(path.string()), std::string::npos);
  std::filesystem::remove(path);
}

TEST_F(OnnxRuntimeBackendTest, RejectsAnUnknownGraphOptimizationLevel) {
  config::ModelConfig cfg;
  (*cfg.mutable_parameters())["graph_optimization_level"].set_string_value("max");
  auto inst = backend_->CreateInstance(ExampleModel("simple"), cfg, {1, 1});
  ASSERT_FALSE(inst.ok());
  EXPECT_NE(inst.status().message().find("graph_optimization_level"), std::string::npos);
}

}  // namespace
}  // namespace inferd::backends
