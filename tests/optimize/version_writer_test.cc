#include "optimize/version_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace inferd::optimize {
namespace {
namespace fs = std::filesystem;

class ModelDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("inferd-versions-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    dir_ = root_ / "mlp";
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_, dir_;
};

TEST_F(ModelDirectory, FirstVersionComesWithAConfig) {
  auto v = WriteModelVersion(dir_, "bytes");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(*v, 1);
  EXPECT_TRUE(fs::exists(dir_ / "1" / "model.onnx"));
  std::ifstream config(dir_ / "config.pbtxt");
  std::string text((std::istreambuf_iterator<char>(config)), {});
  EXPECT_NE(text.find("name: \"mlp\""), std::string::npos);
  EXPECT_NE(text.find("num_versions: 2"), std::string::npos);
}

TEST_F(ModelDirectory, NextVersionFollowsTheHighestAndKeepsTheConfig) {
  fs::create_directories(dir_ / "2");
  fs::create_directories(dir_ / "7");
  fs::create_directories(dir_ / "labels");
  std::ofstream(dir_ / "config.pbtxt") << "name: \"mlp\"\n";
  auto v = WriteModelVersion(dir_, "bytes");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 8);
  std::ifstream config(dir_ / "config.pbtxt");
  std::string text((std::istreambuf_iterator<char>(config)), {});
  EXPECT_EQ(text, "name: \"mlp\"\n");
}

TEST_F(ModelDirectory, LeavesNoStagingDirectoryBehind) {
  ASSERT_TRUE(WriteModelVersion(dir_, "bytes").ok());
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_NE(entry.path().filename().string()[0], '.') << entry.path();
  }
}

}  // namespace
}  // namespace inferd::optimize
