#include "backends/backend_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>

#include "config/model_config_parser.h"

namespace inferd::backends {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// An engine that loads nothing: the registry and CompleteConfig only need its names.
class FakeBackend final : public Backend {
 public:
  FakeBackend(std::string name, std::string platform, std::string file, bool gpu)
      : name_(std::move(name)), platform_(std::move(platform)), file_(std::move(file)), gpu_(gpu) {}
  std::string_view name() const override { return name_; }
  std::string_view platform() const override { return platform_; }
  std::string_view default_model_filename() const override { return file_; }
  std::string version() const override { return "0"; }
  bool supports_gpu() const override { return gpu_; }
  Result<std::unique_ptr<ModelInstance>> CreateInstance(const fs::path&, const config::ModelConfig&,
                                                        const InstanceOptions&) override {
    return Unimplemented("fake");
  }

 private:
  std::string name_, platform_, file_;
  bool gpu_;
};

BackendFactory Fake(std::string name, std::string platform, std::string file,
                    std::atomic<int>* created = nullptr, bool gpu = false) {
  return {
      name, platform, file, [=]() -> Result<std::unique_ptr<Backend>> {
        if (created) ++*created;
        return std::unique_ptr<Backend>(std::make_unique<FakeBackend>(name, platform, file, gpu));
      }};
}

config::ModelConfig Parse(const char* text) {
  auto c = config::ParseModelConfig(text, "test");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : config::ModelConfig();
}

class BackendRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("inferd_registry_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "1");
    auto r = BackendRegistry::Create(
        {.factories = {Fake("onnxruntime", "onnxruntime_onnx", "model.onnx", &onnx_created_),
                       Fake("pytorch", "pytorch_libtorch", "model.pt")}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    registry_ = std::move(r).value();
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Touch(const fs::path& rel) { std::ofstream(dir_ / rel) << "x"; }
  std::string Selected(const char* config_text) {
    auto b = registry_->Select(Parse(config_text), dir_);
    return b.ok() ? std::string((*b)->name()) : "error: " + b.status().message();
  }

  fs::path dir_;
  std::atomic<int> onnx_created_{0};
  std::unique_ptr<BackendRegistry> registry_;
};

TEST_F(BackendRegistryTest, SelectsByBackendName) {
  EXPECT_EQ(Selected(R"(backend: "pytorch")"), "pytorch");
  EXPECT_EQ(Selected(R"(backend: "onnxruntime")"), "onnxruntime");
}

TEST_F(BackendRegistryTest, SelectsByPlatform) {
  EXPECT_EQ(Selected(R"(platform: "pytorch_libtorch")"), "pytorch");
  EXPECT_EQ(Selected(R"(platform: "onnxruntime_onnx")"), "onnxruntime");
}

TEST_F(BackendRegistryTest, SelectsByTheModelFileInAVersionFolder) {
  Touch("1/model.pt");
  EXPECT_EQ(Selected(""), "pytorch");
}

TEST_F(BackendRegistryTest, SelectsByTheExtensionOfDefaultModelFilename) {
  EXPECT_EQ(Selected(R"(default_model_filename: "resnet.onnx")"), "onnxruntime");
  EXPECT_EQ(Selected(R"(default_model_filename: "traced.pt")"), "pytorch");
}

TEST_F(BackendRegistryTest, RejectsAPlatformThatIsNotTheBackendsOwn) {
  EXPECT_THAT(Selected(R"(backend: "pytorch" platform: "onnxruntime_onnx")"),
              HasSubstr("platform 'onnxruntime_onnx' does not belong to backend 'pytorch'"));
}

TEST_F(BackendRegistryTest, NamesTheBuiltInEnginesForAnUnknownBackendOrPlatform) {
  EXPECT_THAT(Selected(R"(backend: "tensorrt")"),
              HasSubstr("backend 'tensorrt' is not built into this inferd; it has onnxruntime "
                        "(onnxruntime_onnx), pytorch (pytorch_libtorch)"));
  EXPECT_THAT(Selected(R"(platform: "tensorflow_savedmodel")"),
              HasSubstr("platform 'tensorflow_savedmodel' is not supported"));
}

TEST_F(BackendRegistryTest, SaysWhichFilesItLookedForWhenNothingMatches) {
  Touch("1/model.plan");
  EXPECT_THAT(Selected(""), HasSubstr("no version folder holds model.onnx or model.pt"));
}

TEST_F(BackendRegistryTest, CreatesEachEngineOnceOnFirstUse) {
  EXPECT_EQ(onnx_created_, 0);
  EXPECT_EQ(Selected(R"(backend: "onnxruntime")"), "onnxruntime");
  EXPECT_EQ(Selected(R"(platform: "onnxruntime_onnx")"), "onnxruntime");
  EXPECT_EQ(onnx_created_, 1);
  EXPECT_EQ(registry_->Loaded(), std::vector<std::string>{"onnxruntime 0"});
}

TEST(BackendRegistry, RejectsTwoEnginesUnderOneName) {
  auto r = BackendRegistry::Create(
      {.factories = {Fake("a", "a_platform", "model.a"), Fake("a", "b_platform", "model.b")}});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("backend 'a' (platform 'b_platform') is "
                                              "registered twice"));
}

TEST(BackendRegistry, BuiltinBackendsIncludeOnnxRuntime) {
  bool found = false;
  for (const auto& f : BuiltinBackends()) found |= f.name == "onnxruntime";
  EXPECT_TRUE(found);
}

config::ModelSignature OneBatchedInput() {
  return {.inputs = {{"x", DataType::kFp32, {-1, 4}}},
          .outputs = {{"y", DataType::kFp32, {-1, 4}}}};
}

TEST(BackendCompleteConfig, FillsTheBackendsOwnPlatformAndName) {
  FakeBackend backend("pytorch", "pytorch_libtorch", "model.pt", false);
  config::ModelConfig config;
  ASSERT_TRUE(backend.CompleteConfig(config, OneBatchedInput(), "m").ok());
  EXPECT_EQ(config.platform(), "pytorch_libtorch");
  EXPECT_EQ(config.backend(), "pytorch");
}

TEST(BackendCompleteConfig, RejectsGpuGroupsOnACpuOnlyEngine) {
  FakeBackend backend("pytorch", "pytorch_libtorch", "model.pt", false);
  config::ModelConfig config = Parse("instance_group { kind: KIND_GPU gpus: [ 0 ] }");
  Status s = backend.CompleteConfig(config, OneBatchedInput(), "m");
  EXPECT_THAT(s.message(), HasSubstr("instance_group 'm_0' has kind KIND_GPU but backend "
                                     "'pytorch' runs on the CPU only"));
}

TEST(BackendCompleteConfig, KeepsGpuGroupsOnAnEngineThatPlacesThem) {
  FakeBackend backend("onnxruntime", "onnxruntime_onnx", "model.onnx", true);
  config::ModelConfig config = Parse("instance_group { kind: KIND_GPU gpus: [ 0 ] }");
  EXPECT_TRUE(backend.CompleteConfig(config, OneBatchedInput(), "m").ok());
}

TEST(BackendConfig, ParsesTritonsTwoForms) {
  auto parsed = ParseBackendConfig({"default-max-batch-size=8", "onnxruntime,intra_op_thread_count=2",
                                    "onnxruntime,intra_op_thread_count=3"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ((*parsed)[""]["default-max-batch-size"], "8");
  EXPECT_EQ((*parsed)["onnxruntime"]["intra_op_thread_count"], "3");  // the last one wins
}

TEST(BackendConfig, RejectsAnEntryWithoutASetting) {
  for (const char* bad : {"nonsense", "onnxruntime,", "=3", "onnxruntime,=3"}) {
    auto parsed = ParseBackendConfig({bad});
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_THAT(parsed.status().message(), HasSubstr(std::string("'") + bad + "'"));
  }
}

TEST(BackendConfig, TheRegistryRejectsUnknownBackendsAndBadBatchSizes) {
  auto unknown = BackendRegistry::Create(
      {.factories = {Fake("onnxruntime", "onnxruntime_onnx", "model.onnx")},
       .backend_config = {{"tensorflow", {{"x", "1"}}}}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("backend 'tensorflow'"));
  auto negative = BackendRegistry::Create(
      {.factories = {Fake("onnxruntime", "onnxruntime_onnx", "model.onnx")},
       .backend_config = {{"", {{"default-max-batch-size", "-1"}}}}});
  ASSERT_FALSE(negative.ok());
  EXPECT_THAT(negative.status().message(), HasSubstr("default-max-batch-size=-1"));
}

TEST(BackendConfig, EachEngineGetsTheGlobalThenItsOwnSettings) {
  auto registry = BackendRegistry::Create(
      {.factories = {Fake("onnxruntime", "onnxruntime_onnx", "model.onnx"),
                     Fake("pytorch", "pytorch_libtorch", "model.pt")},
       .engine_threads = 3,
       .backend_config = {{"", {{"default-max-batch-size", "16"}}},
                          {"pytorch", {{"default-max-batch-size", "2"}}}}});
  ASSERT_TRUE(registry.ok());
  auto onnx = (*registry)->Get("onnxruntime");
  auto torch = (*registry)->Get("pytorch");
  ASSERT_TRUE(onnx.ok() && torch.ok());
  EXPECT_EQ((*onnx)->settings().engine_threads, 3);
  EXPECT_EQ((*onnx)->settings().default_max_batch_size(), 16);
  EXPECT_EQ((*torch)->settings().default_max_batch_size(), 2);
  // Auto-complete gives a batchable model without a config that batch size.
  config::ModelConfig config;
  ASSERT_TRUE((*onnx)->CompleteConfig(config, OneBatchedInput(), "m").ok());
  EXPECT_EQ(config.max_batch_size(), 16);
}

}  // namespace
}  // namespace inferd::backends
