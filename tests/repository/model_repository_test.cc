#include "repository/model_repository.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <future>
#include <thread>

#include "backends/onnxruntime/onnxruntime_backend.h"

namespace inferd::repository {
namespace {

namespace fs = std::filesystem;

fs::path ExampleModel(const std::string& name) {
  const char* root = std::getenv("INFERD_SOURCE_DIR");
  return fs::path(root ? root : ".") / "examples/models" / name / "1/model.onnx";
}

// Builds a throw-away repository on disk for one test.
class ModelRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("inferd_repo_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    auto b =
        backends::BackendRegistry::Create({.factories = {backends::OnnxRuntimeBackendFactory()}});
    ASSERT_TRUE(b.ok());
    backends_ = std::move(b).value();
  }
  void TearDown() override { fs::remove_all(root_); }

  void AddVersion(const std::string& model, int version, const std::string& source = "simple") {
    fs::create_directories(root_ / model / std::to_string(version));
    fs::copy_file(ExampleModel(source), root_ / model / std::to_string(version) / "model.onnx");
  }
  void WriteFile(const fs::path& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  std::unique_ptr<ModelRepository> Load(
      std::function<void(ModelRepository::Options&)> customize = {}) {
    ModelRepository::Options o;
    o.root = root_;
    o.backends = backends_.get();
    o.cpu_cores = 1;
    if (customize) customize(o);
    auto repo = ModelRepository::Create(o);
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    (*repo)->Start();
    return std::move(repo).value();
  }

  fs::path root_;
  std::unique_ptr<backends::BackendRegistry> backends_;
};

TEST_F(ModelRepositoryTest, ServesTheLatestVersionByDefault) {
  AddVersion("m", 1);
  AddVersion("m", 3);
  auto repo = Load();
  auto m = repo->Get("m", 0);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->version(), 3);
  EXPECT_EQ(repo->Get("m", 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*m)->config().name(), "m");  // auto-completed from the directory name
}

TEST_F(ModelRepositoryTest, SpecificVersionPolicyServesOnlyTheNamedVersions) {
  for (int v : {1, 2, 3}) AddVersion("m", v);
  WriteFile("m/config.pbtxt", "version_policy: { specific: { versions: [1, 3] } }\n");
  auto repo = Load();
  EXPECT_TRUE(repo->Get("m", 1).ok());
  EXPECT_EQ(repo->Get("m", 2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*repo->Get("m", 0))->version(), 3);
}

TEST_F(ModelRepositoryTest, ACorruptModelIsUnavailableAndOthersServe) {
  AddVersion("good", 1);
  WriteFile("bad/1/model.onnx", "garbage");
  auto repo = Load();
  EXPECT_TRUE(repo->Get("good", 0).ok());
  auto bad = repo->Get("bad", 0);
  EXPECT_EQ(bad.status().code(), StatusCode::kUnavailable);
  auto status = repo->GetModelStatus("bad");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state, ModelState::kUnavailable);
  ASSERT_EQ(status->versions.size(), 1u);
  EXPECT_EQ(status->versions[0].state, ModelState::kUnavailable);
  EXPECT_NE(status->versions[0].reason.find("model.onnx"), std::string::npos);
}

TEST_F(ModelRepositoryTest, AConfigWithAnUnknownFieldIsReportedWithFileAndLine) {
  AddVersion("m", 1);
  WriteFile("m/config.pbtxt", "max_batch_size: 8\nfoo: 1\n");
  auto repo = Load();
  auto status = repo->GetModelStatus("m");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state, ModelState::kUnavailable);
  EXPECT_NE(status->reason.find("config.pbtxt:2"), std::string::npos) << status->reason;
}

TEST_F(ModelRepositoryTest, AConfigThatContradictsTheModelIsALoadError) {
  AddVersion("m", 1);
  WriteFile("m/config.pbtxt",
            "max_batch_size: 8\n"
            "input { name: \"INPUT0\" data_type: TYPE_INT32 dims: [16] }\n"
            "input { name: \"INPUT1\" data_type: TYPE_FP32 dims: [16] }\n");
  auto repo = Load();
  auto status = repo->GetModelStatus("m");
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->versions.size(), 1u);
  EXPECT_EQ(status->versions[0].state, ModelState::kUnavailable);
  EXPECT_NE(status->versions[0].reason.find("INPUT0"), std::string::npos);
}

TEST_F(ModelRepositoryTest, AModelWithoutVersionFoldersIsUnavailable) {
  fs::create_directories(root_ / "empty");
  auto repo = Load();
  auto status = repo->GetModelStatus("empty");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state, ModelState::kUnavailable);
  EXPECT_FALSE(status->reason.empty());
}

TEST_F(ModelRepositoryTest, UnknownModelsAreNotFoundAndTheIndexIsSorted) {
  AddVersion("b", 1);
  AddVersion("a", 1);
  auto repo = Load();
  EXPECT_EQ(repo->Get("zzz", 0).status().code(), StatusCode::kNotFound);
  auto index = repo->Index();
  ASSERT_EQ(index.size(), 2u);
  EXPECT_EQ(index[0].name, "a");
  EXPECT_EQ(index[1].name, "b");
  EXPECT_EQ(index[0].state, ModelState::kReady);
}

TEST_F(ModelRepositoryTest, HiddenAndNonNumericFoldersAreIgnored) {
  AddVersion("m", 1);
  fs::create_directories(root_ / ".git");
  fs::create_directories(root_ / "m" / "backup");
  auto repo = Load();
  EXPECT_EQ(repo->Index().size(), 1u);
  EXPECT_TRUE(repo->Get("m", 0).ok());
}

TEST_F(ModelRepositoryTest, ExplicitModeLoadsOnlyTheStartupModels) {
  AddVersion("a", 1);
  AddVersion("b", 1);
  auto repo = Load([](auto& o) {
    o.control_mode = ControlMode::kExplicit;
    o.startup_models = {"b"};
  });
  EXPECT_EQ(repo->Get("a", 0).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(repo->Get("b", 0).ok());
  EXPECT_TRUE(repo->LoadModel("a").ok());
  EXPECT_TRUE(repo->Get("a", 0).ok());
}

TEST_F(ModelRepositoryTest, PollLoadsNewModelsReloadsChangedOnesAndUnloadsRemovedOnes) {
  AddVersion("a", 1);
  auto repo = Load([](auto& o) { o.control_mode = ControlMode::kPoll; });
  auto old_a = *repo->Get("a", 0);
  AddVersion("b", 1);
  AddVersion("a", 2);
  repo->Poll();
  EXPECT_TRUE(repo->Get("b", 0).ok());
  EXPECT_EQ((*repo->Get("a", 0))->version(), 2);
  EXPECT_EQ(old_a->version(), 1);  // a request holding v1 still has it
  fs::remove_all(root_ / "b");
  repo->Poll();
  EXPECT_EQ(repo->Get("b", 0).status().code(), StatusCode::kUnavailable);
}

TEST_F(ModelRepositoryTest, AFailedReloadKeepsTheOldVersionServing) {
  AddVersion("m", 1);
  auto repo = Load([](auto& o) {
    o.control_mode = ControlMode::kExplicit;
    o.startup_models = {"m"};
  });
  WriteFile("m/2/model.onnx", "garbage");
  Status s = repo->LoadModel("m");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  auto m = repo->Get("m", 0);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->version(), 1);
  auto status = repo->GetModelStatus("m");
  ASSERT_TRUE(status.ok());
  EXPECT_NE(status->versions[0].reason.find("reload failed"), std::string::npos);
}

TEST_F(ModelRepositoryTest, RoutingSplitsTrafficAndRollbackPinsThePreviousVersion) {
  for (int v : {1, 2}) AddVersion("m", v);
  WriteFile("m/config.pbtxt", "version_policy: { all: {} }\n");
  auto repo = Load();
  ASSERT_TRUE(repo->SetRouting("m", *ParseRoutingPolicy("weighted:1=50,2=50")).ok());
  int v1 = 0;
  for (int i = 0; i < 400; ++i) v1 += (*repo->Get("m", 0))->version() == 1;
  EXPECT_GT(v1, 140);
  EXPECT_LT(v1, 260);
  EXPECT_EQ(repo->SetRouting("m", *ParseRoutingPolicy("pinned:7")).code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(repo->SetRouting("m", RoutingPolicy()).ok());
  auto rolled = repo->Rollback("m");
  ASSERT_TRUE(rolled.ok());
  EXPECT_EQ(RoutingPolicyToString(*rolled), "pinned:1");
  for (int i = 0; i < 20; ++i) EXPECT_EQ((*repo->Get("m", 0))->version(), 1);
  EXPECT_EQ(repo->Rollback("m").status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ModelRepositoryTest, AnIdleModelScalesToZeroAndLoadsAgainOnDemand) {
  AddVersion("m", 1);
  WriteFile("m/config.pbtxt",
            "parameters { key: \"idle_unload_seconds\" value { string_value: \"1\" } }\n");
  auto repo = Load();
  ASSERT_TRUE(repo->Get("m", 0).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  repo->UnloadIdleModels();
  EXPECT_EQ(repo->Get("m", 0).status().code(), StatusCode::kUnavailable);
  ASSERT_TRUE(repo->CanLoadOnDemand("m"));
  std::promise<Status> loaded;
  repo->LoadOnDemand("m", [&](Status s) { loaded.set_value(s); });
  EXPECT_TRUE(loaded.get_future().get().ok());
  EXPECT_TRUE(repo->Get("m", 0).ok());
}

TEST_F(ModelRepositoryTest, ExplicitlyUnloadedModelsDoNotLoadOnDemand) {
  AddVersion("m", 1);
  auto repo = Load([](auto& o) { o.lazy_load = true; });
  ASSERT_TRUE(repo->UnloadModel("m").ok());
  EXPECT_FALSE(repo->CanLoadOnDemand("m"));
}

TEST_F(ModelRepositoryTest, LazyLoadingLoadsAModelOnItsFirstRequest) {
  AddVersion("m", 1);
  auto repo = Load([](auto& o) {
    o.control_mode = ControlMode::kExplicit;
    o.lazy_load = true;
  });
  EXPECT_EQ(repo->Get("m", 0).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(repo->CanLoadOnDemand("m"));
  EXPECT_FALSE(repo->CanLoadOnDemand("absent"));
  std::promise<Status> loaded;
  repo->LoadOnDemand("m", [&](Status s) { loaded.set_value(s); });
  EXPECT_TRUE(loaded.get_future().get().ok());
  EXPECT_TRUE(repo->Get("m", 0).ok());
}

TEST_F(ModelRepositoryTest, TheMemoryBudgetEvictsTheLeastRecentlyUsedIdleModel) {
  for (const char* name : {"a", "b", "c"}) AddVersion(name, 1, "mlp");
  const uint64_t one = fs::file_size(root_ / "a/1/model.onnx");
  auto repo = Load([&](auto& o) {
    o.control_mode = ControlMode::kExplicit;
    o.startup_models = {"a", "b"};
    // Room for two models' files, not three.
    o.memory_budget_bytes = 2 * one + one / 2;
  });
  (*repo->Get("a", 0))->Touch();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  (*repo->Get("b", 0))->Touch();  // b used after a: a is least recently used
  ASSERT_TRUE(repo->LoadModel("c").ok());
  EXPECT_EQ(repo->Get("a", 0).status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(repo->Get("b", 0).ok());
  EXPECT_TRUE(repo->Get("c", 0).ok());
  auto status = repo->GetModelStatus("a");
  EXPECT_NE(status->reason.find("evicted"), std::string::npos);
  EXPECT_TRUE(repo->CanLoadOnDemand("a"));
  EXPECT_EQ(repo->LoadedMemoryBytes(), 2 * one);
}

TEST_F(ModelRepositoryTest, ABusyModelIsNotEvicted) {
  for (const char* name : {"a", "b"}) AddVersion(name, 1, "mlp");
  const uint64_t one = fs::file_size(root_ / "a/1/model.onnx");
  auto repo = Load([&](auto& o) {
    o.control_mode = ControlMode::kExplicit;
    o.startup_models = {"a"};
    o.memory_budget_bytes = one + one / 2;
  });
  auto held = repo->Get("a", 0);  // an in-flight request pins it
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(repo->LoadModel("b").code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(repo->Get("a", 0).ok());
}

TEST_F(ModelRepositoryTest, WarmupRunsBeforeReadyAndAFailingSampleFailsTheLoad) {
  AddVersion("good", 1);
  WriteFile(
      "good/config.pbtxt",
      "max_batch_size: 8\n"
      "model_warmup { name: \"zeros\" batch_size: 2 count: 3\n"
      "  inputs { key: \"INPUT0\" value { data_type: TYPE_FP32 dims: [16] zero_data: true } }\n"
      "  inputs { key: \"INPUT1\" value { data_type: TYPE_FP32 dims: [16] random_data: true } } "
      "}\n");
  AddVersion("bad", 1);
  WriteFile(
      "bad/config.pbtxt",
      "max_batch_size: 8\n"
      "model_warmup { name: \"from_file\" batch_size: 1\n"
      "  inputs { key: \"INPUT0\" value { data_type: TYPE_FP32 dims: [16] input_data_file: "
      "\"missing.bin\" } }\n"
      "  inputs { key: \"INPUT1\" value { data_type: TYPE_FP32 dims: [16] zero_data: true } } }\n");
  auto repo = Load();
  EXPECT_TRUE(repo->Get("good", 0).ok());
  auto status = repo->GetModelStatus("bad");
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->versions.size(), 1u);
  EXPECT_EQ(status->versions[0].state, ModelState::kUnavailable);
  EXPECT_NE(status->versions[0].reason.find("missing.bin"), std::string::npos);
}

TEST_F(ModelRepositoryTest, ModelFileNamesCannotLeaveTheModelFolder) {
  AddVersion("escape", 1);
  WriteFile("escape/config.pbtxt", "default_model_filename: \"../../outside.onnx\"\n");
  AddVersion("absolute", 1);
  WriteFile("absolute/config.pbtxt", "default_model_filename: \"/etc/passwd\"\n");
  auto repo = Load();
  for (const char* name : {"escape", "absolute"}) {
    auto status = repo->GetModelStatus(name);
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(status->state, ModelState::kUnavailable) << name;
    std::string reason = status->reason;
    for (const auto& v : status->versions) reason += v.reason;
    EXPECT_NE(reason.find("inside"), std::string::npos) << reason;
  }
}

}  // namespace
}  // namespace inferd::repository
