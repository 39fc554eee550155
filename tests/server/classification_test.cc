#include "server/classification.h"

#include <gtest/gtest.h>

#include <cstring>

namespace inferd::server {
namespace {

Tensor Scores(Shape shape, std::vector<float> values) {
  Tensor t("probabilities", DataType::kFp32, std::move(shape));
  auto bytes = t.AllocateData(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return t;
}

std::vector<std::string> Elements(const Tensor& t) {
  auto parts = SplitBytesElements(t.data());
  EXPECT_TRUE(parts.ok());
  return {parts->begin(), parts->end()};
}

TEST(Classification, ReturnsTheTopKOfEveryRowHighestFirstWithLabels) {
  std::vector<std::string> labels = {"cat", "dog", "bird"};
  auto out = ClassifyOutput(Scores({2, 3}, {0.1f, 0.7f, 0.2f, 0.5f, 0.25f, 0.25f}), 2,
                            /*batched=*/true, &labels);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->dtype(), DataType::kBytes);
  EXPECT_EQ(out->shape(), (Shape{2, 2}));
  EXPECT_EQ(Elements(*out), (std::vector<std::string>{"0.700000:1:dog", "0.200000:2:bird",
                                                      "0.500000:0:cat", "0.250000:1:dog"}));
}

TEST(Classification, WithoutLabelsGivesScoreAndIndex) {
  auto out = ClassifyOutput(Scores({3}, {1, 3, 2}), 5, /*batched=*/false, nullptr);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->shape(), (Shape{3}));  // k above the class count: every class
  EXPECT_EQ(Elements(*out), (std::vector<std::string>{"3.000000:1", "2.000000:2", "1.000000:0"}));
}

TEST(Classification, RejectsNonNumericScoresAndBadK) {
  Tensor text("t", DataType::kBytes, {1});
  std::vector<std::byte> data;
  AppendBytesElement(data, "x");
  text.SetData(std::move(data));
  EXPECT_EQ(ClassifyOutput(text, 1, false, nullptr).status().code(), StatusCode::kInvalidArgument);

  InferenceRequest request;
  request.outputs.push_back({"probabilities", {{"classification", int64_t{0}}}});
  EXPECT_EQ(RequestedClassifications(request).status().code(), StatusCode::kInvalidArgument);
  request.outputs[0].parameters["classification"] = std::string("3");
  EXPECT_EQ(RequestedClassifications(request).status().code(), StatusCode::kInvalidArgument);
  request.outputs[0].parameters["classification"] = int64_t{3};
  EXPECT_EQ(RequestedClassifications(request)->at("probabilities"), 3);
}

}  // namespace
}  // namespace inferd::server
