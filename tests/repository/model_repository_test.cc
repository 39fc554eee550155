#include "repository/model_repository.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

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
            ("inferd_repo_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    auto b = backends::CreateOnnxRuntimeBackend();
    ASSERT_TRUE(b.ok());
    backend_ = std::move(b).value();
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
  std::unique_ptr<ModelRepository> Load() {
    ModelRepository::Options o;
    o.root = root_;
    o.backend = backend_.get();
    o.cpu_cores = 1;
    auto repo = ModelRepository::Create(o);
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    (*repo)->LoadAll();
    return std::move(repo).value();
  }

  fs::path root_;
  std::unique_ptr<backends::Backend> backend_;
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

}  // namespace
}  // namespace inferd::repository
