#include "optimize/optimizer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tiny_models.h"

namespace inferd::optimize {
namespace {
namespace fs = std::filesystem;

TEST(ParseCandidates, SplitsCandidatesAndChainedSteps) {
  auto c = ParseCandidates("int8,structured:0.5+int8");
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ((*c)[1].name, "structured:0.5+int8");
  ASSERT_EQ((*c)[1].steps.size(), 2u);
  EXPECT_EQ((*c)[1].steps[0].kind, "structured");
  EXPECT_DOUBLE_EQ((*c)[1].steps[0].parameter, 0.5);
}

TEST(ParseCandidates, NamesAnUnknownTransform) {
  auto c = ParseCandidates("int8,int4");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("unknown transform 'int4'"), std::string::npos);
  EXPECT_FALSE(ParseCandidates("prune:abc").ok());
}

class OptimizeRun : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() / ("inferd-opt-" + std::to_string(::getpid()) + ".onnx");
    std::ofstream(path_, std::ios::binary) << testing::TinyMlp(16).SerializeAsString();
  }
  void TearDown() override { fs::remove(path_); }
  OptimizeOptions Options(const std::string& transforms) {
    OptimizeOptions o;
    o.model_path = path_.string();
    o.transforms = transforms;
    o.sample_count = 64;
    o.bench_microseconds = 2000;
    o.bench_rounds = 1;
    return o;
  }
  fs::path path_;
};

TEST_F(OptimizeRun, MeasuresEveryCandidateAgainstTheOriginal) {
  auto report = RunOptimize(Options("graph,int8,fp16,prune:0.3,structured:0.25"));
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_EQ(report->candidates.size(), 5u);
  for (const auto& c : report->candidates) {
    EXPECT_FALSE(c.failed) << c.name << ": " << c.note;
    EXPECT_GT(c.throughput_ratio, 0) << c.name;
    EXPECT_GT(c.agreement, 0.5) << c.name;
    EXPECT_FALSE(c.model_bytes.empty());
  }
  EXPECT_DOUBLE_EQ(report->original.agreement, 1.0);
  EXPECT_NE(FormatReport(*report).find("structured:0.25"), std::string::npos);
}

TEST_F(OptimizeRun, RejectsACandidateBeyondTheAccuracyDrop) {
  // Inputs spread over [-8, 8): the hidden layer, not the bias, decides the top class.
  const fs::path eval = path_.string() + ".json";
  std::string samples;
  for (int s = 0; s < 64; ++s) {
    samples += fmt::format("{}[{},{},{},{}]", s ? "," : "", (s * 7 % 16) - 8, (s * 5 % 16) - 8,
                           (s * 3 % 16) - 8, (s * 11 % 16) - 8);
  }
  std::ofstream(eval) << R"({"inputs": {"x": [)" << samples << "]}}";
  auto options = Options("prune:0.95,graph");
  options.eval_path = eval.string();
  options.max_accuracy_drop = 0.0;
  auto report = RunOptimize(options);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->candidates[0].rejected) << FormatReport(*report);  // 95% of weights gone
  EXPECT_FALSE(report->candidates[1].rejected);  // graph optimization keeps the outputs
  fs::remove(eval);
}

TEST_F(OptimizeRun, ReportsAnInapplicableTransformInItsRow) {
  std::ofstream(path_, std::ios::binary | std::ios::trunc)
      << testing::ReluOnly().SerializeAsString();
  auto report = RunOptimize(Options("int8"));
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_TRUE(report->candidates[0].failed);
  EXPECT_NE(report->candidates[0].note.find("no MatMul or Gemm"), std::string::npos);
}

TEST_F(OptimizeRun, RefusesAFileThatIsNotOnnx) {
  std::ofstream(path_, std::ios::trunc) << "name: \"mlp\"\nplatform: \"onnxruntime_onnx\"\n";
  auto report = RunOptimize(Options("int8"));
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("is not an ONNX model"), std::string::npos);
}

TEST_F(OptimizeRun, DistillsASmallerDenseStudent) {
  auto options = Options("distill:8");
  options.sample_count = 128;
  auto report = RunOptimize(options);
  ASSERT_TRUE(report.ok()) << report.status().message();
  const auto& c = report->candidates[0];
  if (c.note.find("without libtorch") != std::string::npos) GTEST_SKIP() << c.note;
  ASSERT_FALSE(c.failed) << c.note;
  EXPECT_GT(c.agreement, 0.6) << c.note;
}

}  // namespace
}  // namespace inferd::optimize
