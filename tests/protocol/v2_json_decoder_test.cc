#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "protocol/test_util.h"
#include "protocol/v2_json_codec.h"

namespace inferd::protocol {
namespace {

using testing::BytesLayout;
using testing::DecodeJson;
using testing::DecodeWithBinary;
using testing::RawBytes;
using testing::TensorBytes;

// One datatype, its values as JSON, and the tensor bytes they must become (2 elements each).
struct DatatypeCase {
  const char* datatype;
  const char* json_values;  // two comma-separated values
  std::string bytes;
};

std::vector<DatatypeCase> DatatypeCases() {
  return {
      {"BOOL", "true,false", RawBytes<uint8_t>({1, 0})},
      {"UINT8", "0,255", RawBytes<uint8_t>({0, 255})},
      {"UINT16", "1,65535", RawBytes<uint16_t>({1, 65535})},
      {"UINT32", "2,4294967295", RawBytes<uint32_t>({2, 4294967295u})},
      {"UINT64", "3,18446744073709551615",
       RawBytes<uint64_t>({3, std::numeric_limits<uint64_t>::max()})},
      {"INT8", "-128,127", RawBytes<int8_t>({-128, 127})},
      {"INT16", "-32768,32767", RawBytes<int16_t>({-32768, 32767})},
      {"INT32", "-2147483648,7", RawBytes<int32_t>({std::numeric_limits<int32_t>::min(), 7})},
      {"INT64", "-9223372036854775808,9223372036854775807",
       RawBytes<int64_t>(
           {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()})},
      {"FP16", "1.0,-2", RawBytes<uint16_t>({0x3C00, 0xC000})},
      {"BF16", "1.0,3.140625", RawBytes<uint16_t>({0x3F80, 0x4049})},
      {"FP32", "0.1,-2.5e3", RawBytes<float>({0.1f, -2500.0f})},
      {"FP64", "0.1,1e300", RawBytes<double>({0.1, 1e300})},
      {"BYTES", R"("ab","")", BytesLayout({"ab", ""})},
  };
}

void PrintTo(const DatatypeCase& c, std::ostream* os) { *os << c.datatype << " " << c.json_values; }

class DecodeEveryDatatype : public ::testing::TestWithParam<DatatypeCase> {};

TEST_P(DecodeEveryDatatype, FromFlatJsonData) {
  const DatatypeCase& c = GetParam();
  auto request = DecodeJson(
      fmt::format(R"({{"inputs":[{{"name":"x","shape":[2],"datatype":"{}","data":[{}]}}]}})",
                  c.datatype, c.json_values));
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  ASSERT_EQ(request->inputs.size(), 1u);
  const Tensor& x = request->inputs[0];
  EXPECT_EQ(x.name(), "x");
  EXPECT_EQ(DataTypeName(x.dtype()), c.datatype);
  EXPECT_EQ(x.shape(), Shape({2}));
  EXPECT_EQ(TensorBytes(x), c.bytes);
  EXPECT_TRUE(x.ValidateByteSize().ok());
}

// "a,b" -> "[[a],[b]]": the two values nested as shape [2,1].
std::string NestedAsColumn(std::string_view values) {
  const size_t comma = values.find(',');
  return fmt::format("[[{}],[{}]]", values.substr(0, comma), values.substr(comma + 1));
}

TEST_P(DecodeEveryDatatype, FromNestedJsonData) {
  const DatatypeCase& c = GetParam();
  auto request = DecodeJson(
      fmt::format(R"({{"inputs":[{{"name":"x","shape":[2,1],"datatype":"{}","data":{}}}]}})",
                  c.datatype, NestedAsColumn(c.json_values)));
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->inputs[0].shape(), Shape({2, 1}));
  EXPECT_EQ(TensorBytes(request->inputs[0]), c.bytes);
}

TEST_P(DecodeEveryDatatype, FromBinaryData) {
  const DatatypeCase& c = GetParam();
  auto request =
      DecodeWithBinary(fmt::format(R"({{"inputs":[{{"name":"x","shape":[2],"datatype":"{}",)"
                                   R"("parameters":{{"binary_data_size":{}}}}}]}})",
                                   c.datatype, c.bytes.size()),
                       c.bytes);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(TensorBytes(request->inputs[0]), c.bytes);
}

INSTANTIATE_TEST_SUITE_P(V2JsonDecoder, DecodeEveryDatatype, ::testing::ValuesIn(DatatypeCases()),
                         [](const auto& info) { return std::string(info.param.datatype); });

TEST(V2JsonDecoder, NestedDataIsReadInRowMajorOrder) {
  auto request = DecodeJson(
      R"({"inputs":[{"name":"x","shape":[2,3],"datatype":"INT32","data":[[1,2,3],[4,5,6]]}]})");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(TensorBytes(request->inputs[0]), RawBytes<int32_t>({1, 2, 3, 4, 5, 6}));
}

TEST(V2JsonDecoder, ThreeLevelNestedDataIsReadInRowMajorOrder) {
  auto request = DecodeJson(R"({"inputs":[{"name":"x","shape":[2,2,2],"datatype":"INT8",)"
                            R"("data":[[[1,2],[3,4]],[[5,6],[7,8]]]}]})");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(TensorBytes(request->inputs[0]), RawBytes<int8_t>({1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(V2JsonDecoder, FlatDataFillsAMultiDimensionalShape) {
  auto request = DecodeJson(
      R"({"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6]}]})");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(TensorBytes(request->inputs[0]), RawBytes<float>({1, 2, 3, 4, 5, 6}));
}

TEST(V2JsonDecoder, ScalarShapeTakesOneElement) {
  auto request =
      DecodeJson(R"({"inputs":[{"name":"x","shape":[],"datatype":"INT64","data":[42]}]})");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(TensorBytes(request->inputs[0]), RawBytes<int64_t>({42}));
}

TEST(V2JsonDecoder, EmptyShapeTakesNoElements) {
  auto request =
      DecodeJson(R"({"inputs":[{"name":"x","shape":[0,4],"datatype":"FP32","data":[]}]})");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->inputs[0].byte_size(), 0u);
}

TEST(V2JsonDecoder, FloatDataAcceptsIntegersAndNonFiniteStrings) {
  auto request = DecodeJson(R"({"inputs":[{"name":"x","shape":[4],"datatype":"FP32",)"
                            R"("data":[3,"NaN","Infinity","-Infinity"]}]})");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  auto values = request->inputs[0].As<float>();
  EXPECT_EQ(values[0], 3.0f);
  EXPECT_TRUE(std::isnan(values[1]));
  EXPECT_EQ(values[2], std::numeric_limits<float>::infinity());
  EXPECT_EQ(values[3], -std::numeric_limits<float>::infinity());
}

TEST(V2JsonDecoder, HalfDataRoundsToNearestEven) {
  auto request = DecodeJson(R"({"inputs":[{"name":"x","shape":[3],"datatype":"FP16",)"
                            R"("data":[0.1,1.00048828125,65519]}]})");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  // 1 + 2^-11 is a tie between 0x3C00 and 0x3C01: it goes to the even 0x3C00.
  EXPECT_EQ(TensorBytes(request->inputs[0]), RawBytes<uint16_t>({0x2E66, 0x3C00, 0x7BFF}));
}

TEST(V2JsonDecoder, BinaryInputsBorrowTheBodyBytes) {
  const std::string json = R"({"inputs":[{"name":"x","shape":[2],"datatype":"FP32",)"
                           R"("parameters":{"binary_data_size":8}}]})";
  auto body = std::make_shared<const std::string>(json + RawBytes<float>({1.5f, -2.0f}));
  const char* binary_start = body->data() + json.size();
  auto request = DecodeInferRequest(body, json.size());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  const Tensor& x = request->inputs[0];
  EXPECT_EQ(reinterpret_cast<const char*>(x.data().data()), binary_start);
  std::weak_ptr<const std::string> weak = body;
  body.reset();
  EXPECT_FALSE(weak.expired());  // the tensor keeps the body alive
  // Borrowed bytes sit wherever the JSON header ends, so they may be misaligned for As<float>().
  EXPECT_EQ(TensorBytes(x), RawBytes<float>({1.5f, -2.0f}));
}

TEST(V2JsonDecoder, BinaryInputsTakeBytesInJsonOrder) {
  auto request = DecodeWithBinary(
      R"({"inputs":[)"
      R"({"name":"a","shape":[1],"datatype":"INT32","parameters":{"binary_data_size":4}},)"
      R"({"name":"b","shape":[1],"datatype":"INT32","data":[7]},)"
      R"({"name":"c","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":11}}]})",
      RawBytes<int32_t>({5}) + BytesLayout({"hi", "y"}));
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  ASSERT_EQ(request->inputs.size(), 3u);
  EXPECT_EQ(TensorBytes(request->inputs[0]), RawBytes<int32_t>({5}));
  EXPECT_EQ(TensorBytes(request->inputs[1]), RawBytes<int32_t>({7}));
  EXPECT_EQ(TensorBytes(request->inputs[2]), BytesLayout({"hi", "y"}));
}

TEST(V2JsonDecoder, ZeroBinaryDataSizeIsAnEmptyTensor) {
  auto request = DecodeWithBinary(R"({"inputs":[{"name":"x","shape":[0],"datatype":"FP32",)"
                                  R"("parameters":{"binary_data_size":0}}]})",
                                  "");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->inputs[0].byte_size(), 0u);
}

TEST(V2JsonDecoder, RequestIdParametersAndOutputsAreDecoded) {
  auto request = DecodeJson(
      R"({"id":"req-1","parameters":{"binary_data_output":true,"priority":3,"ratio":0.5,)"
      R"("tag":"t"},"inputs":[{"name":"x","shape":[1],"datatype":"INT32","data":[1]}],)"
      R"("outputs":[{"name":"y","parameters":{"binary_data":false}},{"name":"z"}]})");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->id, "req-1");
  EXPECT_EQ(GetBoolParameter(request->parameters, "binary_data_output"), true);
  EXPECT_EQ(GetIntParameter(request->parameters, "priority"), 3);
  EXPECT_EQ(std::get<double>(request->parameters.at("ratio")), 0.5);
  EXPECT_EQ(GetStringParameter(request->parameters, "tag"), "t");
  ASSERT_EQ(request->outputs.size(), 2u);
  EXPECT_EQ(request->outputs[0].name, "y");
  EXPECT_EQ(request->outputs[0].binary_data, false);  // a bool binary_data: its own field
  EXPECT_TRUE(request->outputs[0].parameters.empty());
  EXPECT_EQ(request->outputs[1].name, "z");
  EXPECT_TRUE(request->outputs[1].parameters.empty());
}

TEST(V2JsonDecoder, ModelNameAndVersionAreLeftForTheCaller) {
  auto request = DecodeJson(
      R"({"model_name":"m","inputs":[{"name":"x","shape":[1],"datatype":"INT32","data":[1]}]})");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->model_name, "");
  EXPECT_EQ(request->model_version, 0);
  EXPECT_TRUE(request->outputs.empty());
}

TEST(V2JsonDecoder, BodyWithoutSpareCapacityIsDecoded) {
  auto body = std::make_shared<std::string>(
      R"({"inputs":[{"name":"x","shape":[1],"datatype":"INT32","data":[1]}]})");
  body->shrink_to_fit();
  auto request = DecodeInferRequest(body, std::nullopt);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(TensorBytes(request->inputs[0]), RawBytes<int32_t>({1}));
}

TEST(V2JsonDecoder, BodyWithReservedPaddingIsDecodedInPlace) {
  auto body = std::make_shared<std::string>(
      R"({"inputs":[{"name":"x","shape":[1],"datatype":"INT32","data":[9]}]})");
  body->reserve(body->size() + kRequestBodyPadding);
  auto request = DecodeInferRequest(body, std::nullopt);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(TensorBytes(request->inputs[0]), RawBytes<int32_t>({9}));
}

std::string NestedParameter(size_t depth) {
  return R"({"inputs":[{"name":"x","shape":[1],"datatype":"INT32","data":[1]}],"p":)" +
         std::string(depth, '[') + std::string(depth, ']') + "}";
}

TEST(V2JsonDecoder, NestingUpToTheDepthLimitIsAccepted) {
  EXPECT_TRUE(DecodeJson(NestedParameter(60)).ok());
  EXPECT_TRUE(DecodeJson(NestedParameter(6), DecodeLimits{.max_json_depth = 8}).ok());
}

TEST(V2JsonDecoder, NestingBeyondTheDepthLimitIsRejected) {
  auto deep = DecodeJson(NestedParameter(100));
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(deep.status().message().find("deeper than the limit of 64 levels"), std::string::npos)
      << deep.status().message();
  EXPECT_FALSE(DecodeJson(NestedParameter(8), DecodeLimits{.max_json_depth = 8}).ok());
  // The thread's parser returns to the caller's limit on the next call.
  EXPECT_TRUE(DecodeJson(NestedParameter(60)).ok());
}

TEST(V2JsonDecoder, LargeFloatTensorIsDecoded) {
  constexpr size_t kCount = 1 << 18;  // 1 MiB of FP32
  std::string json = R"({"inputs":[{"name":"x","shape":[262144],"datatype":"FP32","data":[)";
  for (size_t i = 0; i < kCount; ++i) {
    if (i != 0) json += ',';
    json += fmt::format("{}", static_cast<float>(i) * 0.25f);
  }
  json += "]}]}";
  auto request = DecodeJson(std::move(json));
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  auto values = request->inputs[0].As<float>();
  ASSERT_EQ(values.size(), kCount);
  EXPECT_EQ(values[kCount - 1], static_cast<float>(kCount - 1) * 0.25f);
}

}  // namespace
}  // namespace inferd::protocol
