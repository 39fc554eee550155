#include "backends/pytorch/pytorch_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <numeric>

#include "config/model_config_parser.h"

namespace inferd::backends {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

fs::path ExampleDir() {
  const char* root = std::getenv("INFERD_SOURCE_DIR");
  return fs::path(root ? root : ".") / "examples/models/mlp_torch";
}

config::ModelConfig ExampleConfig() {
  auto c = config::ReadModelConfigFile(ExampleDir() / "config.pbtxt");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : config::ModelConfig();
}

Tensor Input(int64_t batch) {
  Tensor t("INPUT__0", DataType::kFp32, {batch, 64});
  auto bytes = t.AllocateData(static_cast<size_t>(batch) * 64 * sizeof(float));
  auto* f = reinterpret_cast<float*>(bytes.data());
  for (int64_t i = 0; i < batch * 64; ++i) f[i] = static_cast<float>(i % 7) * 0.25f - 0.5f;
  return t;
}

class PyTorchBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = CreatePyTorchBackend();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend_ = std::move(b).value();
  }
  Result<std::unique_ptr<ModelInstance>> Load(const config::ModelConfig& config,
                                              InstanceOptions options = {1, 1}) {
    return backend_->CreateInstance(ExampleDir() / "1" / "model.pt", config, options);
  }
  std::unique_ptr<Backend> backend_;
};

TEST_F(PyTorchBackendTest, AnswersToTritonsNames) {
  EXPECT_EQ(backend_->name(), "pytorch");
  EXPECT_EQ(backend_->platform(), "pytorch_libtorch");
  EXPECT_EQ(backend_->default_model_filename(), "model.pt");
  EXPECT_THAT(backend_->version(), ::testing::StartsWith("1."));
}

TEST_F(PyTorchBackendTest, TakesTheSignatureFromTheConfigWithTheBatchDimension) {
  auto inst = Load(ExampleConfig());
  ASSERT_TRUE(inst.ok()) << inst.status().ToString();
  const auto& sig = (*inst)->signature();
  ASSERT_EQ(sig.inputs.size(), 1u);
  EXPECT_EQ(sig.inputs[0].dims, (std::vector<int64_t>{-1, 64}));
  ASSERT_EQ(sig.outputs.size(), 2u);
  EXPECT_EQ(sig.outputs[1].name, "PROBABILITIES__1");
}

TEST_F(PyTorchBackendTest, RunsABatchAndReturnsTheRequestedOutputsInOrder) {
  auto inst = Load(ExampleConfig());
  ASSERT_TRUE(inst.ok()) << inst.status().ToString();
  std::vector<Tensor> inputs;
  inputs.push_back(Input(3));
  std::vector<std::string> outputs = {"PROBABILITIES__1", "LOGITS__0"};
  ExecutionTimings timings;
  auto r = (*inst)->Execute(inputs, outputs, &timings);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name(), "PROBABILITIES__1");
  EXPECT_EQ((*r)[0].shape(), (Shape{3, 10}));
  EXPECT_EQ((*r)[1].dtype(), DataType::kFp32);
  EXPECT_GT(timings.infer_ns, 0u);
  auto probs = (*r)[0].As<float>();
  for (int row = 0; row < 3; ++row) {
    EXPECT_NEAR(std::accumulate(probs.begin() + row * 10, probs.begin() + row * 10 + 10, 0.0f),
                1.0f, 1e-5);
  }
}

TEST_F(PyTorchBackendTest, CompletesTheConfigWithItsOwnPlatform) {
  config::ModelConfig cfg = ExampleConfig();
  cfg.clear_platform();
  auto inst = Load(cfg);
  ASSERT_TRUE(inst.ok()) << inst.status().ToString();
  ASSERT_TRUE(backend_->CompleteConfig(cfg, (*inst)->signature(), "mlp_torch").ok());
  EXPECT_EQ(cfg.platform(), "pytorch_libtorch");
  EXPECT_EQ(cfg.backend(), "pytorch");
}

TEST_F(PyTorchBackendTest, AModelWithoutTensorsInItsConfigDoesNotLoad) {
  auto inst = Load(config::ModelConfig());
  ASSERT_FALSE(inst.ok());
  EXPECT_THAT(inst.status().message(), HasSubstr("list every input and output"));
}

TEST_F(PyTorchBackendTest, AGpuInstanceIsRefused) {
  auto inst = Load(ExampleConfig(), {.intra_op_threads = 1, .on_gpu = true, .gpu_id = 0});
  ASSERT_FALSE(inst.ok());
  EXPECT_THAT(inst.status().message(), HasSubstr("runs on the CPU only"));
}

TEST_F(PyTorchBackendTest, AnInputNamedForNoArgumentIsALoadError) {
  config::ModelConfig cfg = ExampleConfig();
  cfg.mutable_input(0)->set_name("pixels");
  auto inst = Load(cfg);
  ASSERT_FALSE(inst.ok());
  EXPECT_THAT(inst.status().message(), HasSubstr("config input 'pixels' is neither an argument "
                                                 "of forward(x)"));
}

TEST_F(PyTorchBackendTest, ACorruptModelFileIsALoadError) {
  auto path = fs::temp_directory_path() / "inferd_corrupt_model.pt";
  std::ofstream(path) << "this is not a torchscript archive";
  auto inst = backend_->CreateInstance(path, ExampleConfig(), {1, 1});
  ASSERT_FALSE(inst.ok());
  EXPECT_EQ(inst.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(inst.status().message(), HasSubstr(path.string()));
  fs::remove(path);
}

TEST_F(PyTorchBackendTest, EngineErrorsBecomeInternalStatus) {
  auto inst = Load(ExampleConfig());
  ASSERT_TRUE(inst.ok());
  Tensor bad("INPUT__0", DataType::kFp32, {1, 8});
  bad.AllocateData(8 * sizeof(float));
  std::vector<Tensor> inputs;
  inputs.push_back(std::move(bad));
  std::vector<std::string> outputs = {"LOGITS__0"};
  auto r = (*inst)->Execute(inputs, outputs, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_THAT(r.status().message(), HasSubstr("pytorch:"));
}

TEST_F(PyTorchBackendTest, AnOutputOfAnotherTypeThanTheConfigDeclaresIsAnError) {
  config::ModelConfig cfg = ExampleConfig();
  cfg.mutable_output(0)->set_data_type(config::TYPE_FP64);
  auto inst = Load(cfg);
  ASSERT_TRUE(inst.ok()) << inst.status().ToString();
  std::vector<Tensor> inputs;
  inputs.push_back(Input(1));
  std::vector<std::string> outputs = {"LOGITS__0"};
  auto r = (*inst)->Execute(inputs, outputs, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("output 'LOGITS__0' is FP32 but the config declares FP64"));
}

}  // namespace
}  // namespace inferd::backends
