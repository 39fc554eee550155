// LoadModelVersion against a fake engine: where instances are placed and how the CPU budget is
// split among them, and that the config is completed by the model's own backend.
#include "repository/version_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "config/model_config_parser.h"

namespace inferd::repository {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class FakeInstance final : public backends::ModelInstance {
 public:
  explicit FakeInstance(config::ModelSignature sig) : sig_(std::move(sig)) {}
  const config::ModelSignature& signature() const override { return sig_; }
  Result<std::vector<Tensor>> Execute(std::span<const Tensor> inputs, std::span<const std::string>,
                                      backends::ExecutionTimings*) override {
    return std::vector<Tensor>(inputs.begin(), inputs.end());
  }

 private:
  config::ModelSignature sig_;
};

// Records where the loader asks it to put each instance.
class RecordingBackend final : public backends::Backend {
 public:
  explicit RecordingBackend(bool gpu) : gpu_(gpu) {}
  std::string_view name() const override { return "fake"; }
  std::string_view platform() const override { return "fake_platform"; }
  std::string_view default_model_filename() const override { return "model.fake"; }
  std::string version() const override { return "0"; }
  bool supports_gpu() const override { return gpu_; }
  Result<std::unique_ptr<backends::ModelInstance>> CreateInstance(
      const fs::path&, const config::ModelConfig&,
      const backends::InstanceOptions& options) override {
    placements.push_back(options);
    config::ModelSignature sig{.inputs = {{"x", DataType::kFp32, {-1, 4}}},
                               .outputs = {{"x", DataType::kFp32, {-1, 4}}}};
    return std::unique_ptr<backends::ModelInstance>(std::make_unique<FakeInstance>(sig));
  }
  std::vector<backends::InstanceOptions> placements;

 private:
  bool gpu_;
};

class VersionLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("inferd_loader_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "1");
    std::ofstream(dir_ / "1" / "model.fake") << "weights";
  }
  void TearDown() override { fs::remove_all(dir_); }
  Result<std::unique_ptr<ServableModel>> Load(backends::Backend& backend, const char* config,
                                              unsigned cores) {
    auto cfg = config::ParseModelConfig(config, "test");
    EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
    return LoadModelVersion(dir_, "m", 1, *cfg, {&backend, cores});
  }
  fs::path dir_;
};

TEST_F(VersionLoaderTest, GpuGroupsPlaceCountInstancesOnEachListedGpu) {
  RecordingBackend backend(/*gpu=*/true);
  auto model = Load(backend, R"(instance_group [ { kind: KIND_GPU gpus: [ 0, 2 ] count: 2 },
                                                 { kind: KIND_CPU count: 1 } ])",
                    /*cores=*/10);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_EQ(backend.placements.size(), 5u);
  std::vector<std::pair<bool, int>> where;
  for (const auto& p : backend.placements) {
    where.emplace_back(p.on_gpu, p.on_gpu ? p.gpu_id : -1);
    EXPECT_EQ(p.intra_op_threads, 2);  // 10 cores shared by 5 instances
    EXPECT_EQ(p.inter_op_threads, 1);
  }
  EXPECT_EQ(where, (std::vector<std::pair<bool, int>>{
                       {true, 0}, {true, 0}, {true, 2}, {true, 2}, {false, -1}}));
  EXPECT_EQ((*model)->config().platform(), "fake_platform");  // completed by the backend
}

TEST_F(VersionLoaderTest, AGpuGroupWithoutGpusUsesGpuZero) {
  RecordingBackend backend(/*gpu=*/true);
  auto model = Load(backend, "instance_group [ { kind: KIND_GPU } ]", 2);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_EQ(backend.placements.size(), 1u);
  EXPECT_TRUE(backend.placements[0].on_gpu);
  EXPECT_EQ(backend.placements[0].gpu_id, 0);
}

TEST_F(VersionLoaderTest, ACpuOnlyBackendRefusesAGpuGroup) {
  RecordingBackend backend(/*gpu=*/false);
  auto model = Load(backend, "instance_group [ { kind: KIND_GPU gpus: [ 0 ] } ]", 2);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr("backend 'fake' runs on the CPU only"));
}

}  // namespace
}  // namespace inferd::repository
