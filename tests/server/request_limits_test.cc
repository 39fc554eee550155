#include <gtest/gtest.h>

#include <iterator>

#include "server/request_validator.h"

namespace inferd::server {
namespace {

Tensor Fp32(const std::string& name, Shape shape) {
  Tensor t(name, DataType::kFp32, shape);
  t.AllocateData(static_cast<size_t>(ElementCount(shape)) * 4);
  return t;
}

Tensor Strings(const std::string& name, const std::vector<std::string>& elements) {
  Tensor t(name, DataType::kBytes, {static_cast<int64_t>(elements.size())});
  std::vector<std::byte> bytes;
  for (const auto& e : elements) AppendBytesElement(bytes, e);
  t.SetData(std::move(bytes));
  return t;
}

InferenceRequest Request(std::vector<Tensor> inputs) {
  InferenceRequest r;
  r.model_name = "m";
  r.inputs.assign(std::make_move_iterator(inputs.begin()), std::make_move_iterator(inputs.end()));
  return r;
}

TEST(RequestLimits, NoLimitsAllowAnything) {
  RequestLimits none{.max_inputs = 0};
  EXPECT_TRUE(CheckRequestLimits(Request({Fp32("a", {1000, 1000})}), none).ok());
}

TEST(RequestLimits, TooManyInputsIsResourceExhausted) {
  RequestLimits limits{.max_inputs = 1};
  Status s = CheckRequestLimits(Request({Fp32("a", {1}), Fp32("b", {1})}), limits);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("2 inputs"), std::string::npos);
}

TEST(RequestLimits, ElementsCountOverAllInputs) {
  RequestLimits limits{.max_elements = 10};
  EXPECT_TRUE(CheckRequestLimits(Request({Fp32("a", {5}), Fp32("b", {5})}), limits).ok());
  Status s = CheckRequestLimits(Request({Fp32("a", {5}), Fp32("b", {6})}), limits);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("'b'"), std::string::npos);
}

TEST(RequestLimits, BytesCountOverAllInputs) {
  RequestLimits limits{.max_bytes = 40};
  EXPECT_TRUE(CheckRequestLimits(Request({Fp32("a", {10})}), limits).ok());
  EXPECT_EQ(CheckRequestLimits(Request({Fp32("a", {10}), Fp32("b", {1})}), limits).code(),
            StatusCode::kResourceExhausted);
}

TEST(RequestLimits, ALongBytesElementIsResourceExhausted) {
  RequestLimits limits{.max_bytes_element_bytes = 4};
  EXPECT_TRUE(CheckRequestLimits(Request({Strings("t", {"abcd", ""})}), limits).ok());
  Status s = CheckRequestLimits(Request({Strings("t", {"abcd", "abcde"})}), limits);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("5 bytes"), std::string::npos);
}

TEST(RequestLimits, NegativeDimsAreInvalid) {
  Tensor t("a", DataType::kFp32, {-1, 4});
  EXPECT_EQ(CheckRequestLimits(Request({t}), RequestLimits{.max_elements = 10}).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace inferd::server
