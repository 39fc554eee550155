#include "repository/repository_source.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "backends/onnxruntime/onnxruntime_backend.h"
#include "repository/model_repository.h"
#include "repository/s3_source.h"

namespace inferd::repository {
namespace {

namespace fs = std::filesystem;

fs::path ExampleModel() {
  const char* root = std::getenv("INFERD_SOURCE_DIR");
  return fs::path(root ? root : ".") / "examples/models/simple/1/model.onnx";
}

// A source over a local folder that counts its syncs and can be told to fail them.
class CountingSource : public RepositorySource {
 public:
  explicit CountingSource(fs::path root) : root_(std::move(root)), location_(root_.string()) {}
  const fs::path& LocalRoot() const override { return root_; }
  Status Sync() override {
    ++syncs;
    return fail ? Unavailable("origin unreachable") : Status::Ok();
  }
  const std::string& Location() const override { return location_; }
  int syncs = 0;
  bool fail = false;

 private:
  const fs::path root_;
  const std::string location_;
};

class RepositorySourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("inferd_sources_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    auto b =
        backends::BackendRegistry::Create({.factories = {backends::OnnxRuntimeBackendFactory()}});
    ASSERT_TRUE(b.ok());
    backends_ = std::move(b).value();
  }
  void TearDown() override { fs::remove_all(dir_); }
  void AddVersion(const fs::path& root, const std::string& model, int version) {
    fs::create_directories(root / model / std::to_string(version));
    fs::copy_file(ExampleModel(), root / model / std::to_string(version) / "model.onnx");
  }
  std::unique_ptr<ModelRepository> Load(std::vector<RepositorySource*> sources,
                                        ControlMode mode = ControlMode::kNone) {
    ModelRepository::Options o;
    o.sources = std::move(sources);
    o.backends = backends_.get();
    o.cpu_cores = 1;
    o.control_mode = mode;
    o.poll_interval_seconds = 3600;  // Poll() is called by the test
    auto repo = ModelRepository::Create(o);
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    (*repo)->Start();
    return std::move(repo).value();
  }

  fs::path dir_;
  std::unique_ptr<backends::BackendRegistry> backends_;
};

TEST_F(RepositorySourceTest, ServesEveryModelOfEverySourceAndTheFirstSourceWinsANameClash) {
  AddVersion(dir_ / "a", "m", 1);
  AddVersion(dir_ / "b", "m", 2);
  AddVersion(dir_ / "b", "n", 1);
  CountingSource a(dir_ / "a"), b(dir_ / "b");
  auto repo = Load({&a, &b});
  auto m = repo->Get("m", 0);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->version(), 1);
  EXPECT_TRUE(repo->Get("n", 1).ok());
  EXPECT_EQ(repo->Index().size(), 2u);
}

TEST_F(RepositorySourceTest, SyncsEverySourceAtStartAndBeforeEachPoll) {
  AddVersion(dir_ / "a", "m", 1);
  CountingSource a(dir_ / "a");
  auto repo = Load({&a}, ControlMode::kPoll);
  EXPECT_EQ(a.syncs, 1);
  AddVersion(dir_ / "a", "late", 1);
  repo->Poll();
  EXPECT_EQ(a.syncs, 2);
  EXPECT_TRUE(repo->Get("late", 1).ok());
}

TEST_F(RepositorySourceTest, AnExplicitLoadAfterStartSyncsFirst) {
  AddVersion(dir_ / "a", "m", 1);
  CountingSource a(dir_ / "a");
  auto repo = Load({&a}, ControlMode::kExplicit);
  EXPECT_EQ(a.syncs, 1);
  AddVersion(dir_ / "a", "late", 1);
  EXPECT_TRUE(repo->LoadModel("late").ok());
  EXPECT_EQ(a.syncs, 2);
  EXPECT_TRUE(repo->Get("late", 1).ok());
}

TEST_F(RepositorySourceTest, AFailedSyncKeepsServingWhatTheSourceHad) {
  AddVersion(dir_ / "a", "m", 1);
  CountingSource a(dir_ / "a");
  auto repo = Load({&a}, ControlMode::kPoll);
  a.fail = true;
  repo->Poll();
  EXPECT_TRUE(repo->Get("m", 1).ok());
}

TEST_F(RepositorySourceTest, ARepositoryWithoutRootOrSourcesIsRefused) {
  ModelRepository::Options o;
  o.backends = backends_.get();
  auto repo = ModelRepository::Create(o);
  EXPECT_EQ(repo.status().code(), StatusCode::kInvalidArgument);
}

TEST(OpenRepositorySource, RefusesUnknownSchemesMissingDirectoriesAndMalformedS3Urls) {
  const RepositorySourceOptions options;
  EXPECT_EQ(OpenRepositorySource("gs://bucket/models", options).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenRepositorySource("/no/such/inferd/repository", options).status().code(),
            StatusCode::kNotFound);
  for (const char* url :
       {"s3://", "s3:///prefix", "s3://../etc", "s3://bucket/../etc", "s3://bucket/a//b"}) {
    auto source = OpenRepositorySource(url, options);
    EXPECT_EQ(source.status().code(), StatusCode::kInvalidArgument) << url;
    EXPECT_NE(source.status().message().find(url), std::string::npos) << url;
  }
}

TEST(S3Source, MirrorsAPrefixBelowTheCacheDirectory) {
  auto source = S3Source::Create("s3://bucket/team/models/", "/var/cache/inferd",
                                 {.endpoint = "http://127.0.0.1:9000"});
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ((*source)->LocalRoot(), fs::path("/var/cache/inferd/s3/bucket/team/models"));
  auto whole = S3Source::Create("s3://bucket", "/c", {.endpoint = "http://h"});
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ((*whole)->LocalRoot(), fs::path("/c/s3/bucket"));
  EXPECT_EQ(S3Source::Create("s3://b/p", "/c", {.endpoint = "ftp://h"}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace inferd::repository
