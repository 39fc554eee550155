#include "optimize/eval_set.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tiny_models.h"

namespace inferd::optimize {
namespace {

class EvalSetFile : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    path_ = std::filesystem::temp_directory_path() /
            ("inferd-eval-" + std::to_string(::getpid()) + ".json");
    std::ofstream(path_) << text;
    return path_.string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::vector<ModelInput> Inputs() { return ModelInputs(testing::TinyMlp()).value(); }
  std::filesystem::path path_;
};

TEST_F(EvalSetFile, ReadsNestedSamplesAndLabels) {
  auto set =
      LoadEvalSet(Write(R"({"inputs": {"x": [[1,2,3,4],[5,6,7,8]]}, "labels": [0, 2]})"), Inputs());
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->count, 2);
  EXPECT_EQ(set->data[0][5], 6.0f);
  EXPECT_EQ(set->labels, (std::vector<int64_t>{0, 2}));
}

TEST_F(EvalSetFile, NamesAnInputTheModelDoesNotHave) {
  auto set = LoadEvalSet(Write(R"({"inputs": {"x": [[1,2,3,4]], "pixels": [[1]]}})"), Inputs());
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("'pixels' is not an input of the model"),
            std::string::npos);
}

TEST_F(EvalSetFile, NamesASampleOfTheWrongSize) {
  auto set = LoadEvalSet(Write(R"({"inputs": {"x": [[1,2,3,4],[1,2,3]]}})"), Inputs());
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("sample 1 of input 'x' has 3 values, the model takes 4"),
            std::string::npos);
}

TEST_F(EvalSetFile, CountsLabelsAgainstSamples) {
  auto set = LoadEvalSet(Write(R"({"inputs": {"x": [[1,2,3,4]]}, "labels": [1, 2]})"), Inputs());
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("2 labels for 1 samples"), std::string::npos);
}

TEST(ModelInputs, SplitsTheBatchDimensionOff) {
  auto inputs = ModelInputs(testing::TinyMlp());
  ASSERT_TRUE(inputs.ok());
  ASSERT_EQ(inputs->size(), 1u);
  EXPECT_EQ((*inputs)[0].sample_shape, (std::vector<int64_t>{4}));
  EXPECT_EQ((*inputs)[0].fixed_batch, 0);
}

}  // namespace
}  // namespace inferd::optimize
