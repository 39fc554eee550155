#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "protocol/test_util.h"
#include "protocol/v2_json_codec.h"

namespace inferd::protocol {
namespace {

using testing::BytesLayout;
using testing::RawBytes;

Tensor MakeTensor(std::string name, DataType dtype, Shape shape, const std::string& bytes) {
  Tensor tensor(std::move(name), dtype, std::move(shape));
  auto data = tensor.AllocateData(bytes.size());
  if (!bytes.empty()) std::memcpy(data.data(), bytes.data(), bytes.size());
  return tensor;
}

InferenceResponse MakeResponse(std::vector<Tensor> outputs) {
  InferenceResponse response;
  response.model_name = "m";
  response.model_version = 3;
  response.outputs = std::move(outputs);
  return response;
}

// The JSON text of a response with one output encoded as JSON.
std::string EncodeOne(DataType dtype, Shape shape, const std::string& bytes) {
  auto encoded = EncodeInferResponse(
      MakeResponse({MakeTensor("y", dtype, std::move(shape), bytes)}), InferenceRequest{});
  EXPECT_FALSE(encoded.header_length.has_value());
  return encoded.body;
}

// "[...]" data of a one-output JSON response.
std::string DataOf(DataType dtype, const std::string& bytes, int64_t count) {
  const std::string body = EncodeOne(dtype, {count}, bytes);
  const size_t start = body.find(R"("data":)");
  if (start == std::string::npos) return "<no data in " + body + ">";
  const size_t end = body.rfind("}]}");
  return body.substr(start + 7, end - start - 7);
}

TEST(V2JsonEncoder, WritesTheResponseHeaderAndJsonOutputs) {
  auto encoded = EncodeInferResponse(
      MakeResponse(
          {MakeTensor("y", DataType::kFp32, {2, 2}, RawBytes<float>({1, 0.5f, -2, 0.1f}))}),
      InferenceRequest{});
  EXPECT_EQ(encoded.body,
            R"({"model_name":"m","model_version":"3","outputs":[)"
            R"({"name":"y","datatype":"FP32","shape":[2,2],"data":[1,0.5,-2,0.1]}]})");
  EXPECT_FALSE(encoded.header_length.has_value());
}

TEST(V2JsonEncoder, EchoesANonEmptyId) {
  InferenceResponse response = MakeResponse({});
  response.id = "req \"7\"";
  EXPECT_EQ(EncodeInferResponse(response, {}).body,
            R"({"model_name":"m","model_version":"3","id":"req \"7\"","outputs":[]})");
}

TEST(V2JsonEncoder, WritesResponseParameters) {
  InferenceResponse response = MakeResponse({});
  response.parameters = {{"a", true}, {"b", int64_t{-4}}, {"c", 0.25}, {"d", std::string("x")}};
  EXPECT_EQ(EncodeInferResponse(response, {}).body,
            R"({"model_name":"m","model_version":"3",)"
            R"("parameters":{"a":true,"b":-4,"c":0.25,"d":"x"},"outputs":[]})");
}

TEST(V2JsonEncoder, WritesEveryDatatypeAsJson) {
  EXPECT_EQ(DataOf(DataType::kBool, RawBytes<uint8_t>({1, 0}), 2), "[true,false]");
  EXPECT_EQ(DataOf(DataType::kUint8, RawBytes<uint8_t>({0, 255}), 2), "[0,255]");
  EXPECT_EQ(DataOf(DataType::kUint16, RawBytes<uint16_t>({65535}), 1), "[65535]");
  EXPECT_EQ(DataOf(DataType::kUint32, RawBytes<uint32_t>({4294967295u}), 1), "[4294967295]");
  EXPECT_EQ(
      DataOf(DataType::kUint64, RawBytes<uint64_t>({std::numeric_limits<uint64_t>::max()}), 1),
      "[18446744073709551615]");
  EXPECT_EQ(DataOf(DataType::kInt8, RawBytes<int8_t>({-128, 127}), 2), "[-128,127]");
  EXPECT_EQ(DataOf(DataType::kInt16, RawBytes<int16_t>({-32768}), 1), "[-32768]");
  EXPECT_EQ(DataOf(DataType::kInt32, RawBytes<int32_t>({-5, 6}), 2), "[-5,6]");
  EXPECT_EQ(DataOf(DataType::kInt64, RawBytes<int64_t>({std::numeric_limits<int64_t>::min()}), 1),
            "[-9223372036854775808]");
  EXPECT_EQ(DataOf(DataType::kFp16, RawBytes<uint16_t>({0x3C00, 0x3555, 0x2E66}), 3),
            "[1,0.33325195,0.099975586]");
  EXPECT_EQ(DataOf(DataType::kBf16, RawBytes<uint16_t>({0x3F80, 0x4049}), 2), "[1,3.140625]");
  EXPECT_EQ(DataOf(DataType::kFp32, RawBytes<float>({0.1f, -2.5e-8f}), 2), "[0.1,-2.5e-08]");
  EXPECT_EQ(DataOf(DataType::kFp64, RawBytes<double>({0.1, 1e300}), 2), "[0.1,1e+300]");
  EXPECT_EQ(DataOf(DataType::kBytes, BytesLayout({"ab", "", "\xC3\xA9"}), 3),
            "[\"ab\",\"\",\"\xC3\xA9\"]");
}

TEST(V2JsonEncoder, WritesNonFiniteFloatsAsTritonDoes) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(DataOf(DataType::kFp32,
                   RawBytes<float>({std::numeric_limits<float>::quiet_NaN(), inf, -inf}), 3),
            "[NaN,Infinity,-Infinity]");
  EXPECT_EQ(DataOf(DataType::kFp16, RawBytes<uint16_t>({0x7E00, 0xFC00}), 2), "[NaN,-Infinity]");
}

TEST(V2JsonEncoder, EscapesBytesElements) {
  EXPECT_EQ(DataOf(DataType::kBytes, BytesLayout({"a\"b", "line\n", std::string("\0", 1)}), 3),
            R"(["a\"b","line\n","\u0000"])");
}

TEST(V2JsonEncoder, WritesTheShapeEvenForScalars) {
  EXPECT_NE(
      EncodeOne(DataType::kInt32, {}, RawBytes<int32_t>({4})).find(R"("shape":[],"data":[4])"),
      std::string::npos);
}

TEST(V2JsonEncoder, BinaryDataParameterSendsThatOutputBinary) {
  InferenceRequest request;
  request.outputs = {{"y", {{"binary_data", true}}}};
  const std::string y = RawBytes<float>({1, 2});
  auto encoded = EncodeInferResponse(
      MakeResponse({MakeTensor("y", DataType::kFp32, {2}, y),
                    MakeTensor("z", DataType::kInt8, {1}, RawBytes<int8_t>({3}))}),
      request);
  const std::string json =
      R"({"model_name":"m","model_version":"3","outputs":[)"
      R"({"name":"y","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}},)"
      R"({"name":"z","datatype":"INT8","shape":[1],"data":[3]}]})";
  ASSERT_EQ(encoded.header_length, json.size());
  EXPECT_EQ(encoded.body, json + y);
}

TEST(V2JsonEncoder, BinaryDataOutputAppliesToOutputsWithoutTheirOwnFlag) {
  InferenceRequest request;
  request.parameters = {{"binary_data_output", true}};
  request.outputs = {{"y", {{"binary_data", false}}}, {"z", {}}};
  auto encoded = EncodeInferResponse(
      MakeResponse({MakeTensor("y", DataType::kInt8, {1}, RawBytes<int8_t>({1})),
                    MakeTensor("z", DataType::kInt8, {1}, RawBytes<int8_t>({2})),
                    MakeTensor("w", DataType::kInt8, {1}, RawBytes<int8_t>({3}))}),
      request);
  ASSERT_TRUE(encoded.header_length.has_value());
  const std::string json = encoded.body.substr(0, *encoded.header_length);
  EXPECT_NE(json.find(R"({"name":"y","datatype":"INT8","shape":[1],"data":[1]})"),
            std::string::npos);
  EXPECT_NE(
      json.find(R"("name":"z","datatype":"INT8","shape":[1],"parameters":{"binary_data_size":1})"),
      std::string::npos);
  EXPECT_NE(
      json.find(R"("name":"w","datatype":"INT8","shape":[1],"parameters":{"binary_data_size":1})"),
      std::string::npos);
  EXPECT_EQ(encoded.body.substr(*encoded.header_length), RawBytes<int8_t>({2, 3}));
}

TEST(V2JsonEncoder, BinaryOutputsFollowTheJsonInOutputOrder) {
  InferenceRequest request;
  request.parameters = {{"binary_data_output", true}};
  const std::string a = RawBytes<int32_t>({1, 2});
  const std::string b = RawBytes<double>({3.5});
  auto encoded = EncodeInferResponse(MakeResponse({MakeTensor("b", DataType::kFp64, {1}, b),
                                                   MakeTensor("a", DataType::kInt32, {2}, a)}),
                                     request);
  ASSERT_TRUE(encoded.header_length.has_value());
  EXPECT_EQ(encoded.body.substr(*encoded.header_length), b + a);
  const std::string json = encoded.body.substr(0, *encoded.header_length);
  EXPECT_LT(json.find(R"("name":"b")"), json.find(R"("name":"a")"));
}

TEST(V2JsonEncoder, BinaryBytesOutputUsesTheLengthPrefixedLayout) {
  InferenceRequest request;
  request.outputs = {{"s", {{"binary_data", true}}}};
  const std::string layout = BytesLayout({"hello", ""});
  auto encoded =
      EncodeInferResponse(MakeResponse({MakeTensor("s", DataType::kBytes, {2}, layout)}), request);
  ASSERT_TRUE(encoded.header_length.has_value());
  EXPECT_NE(encoded.body.find(R"("parameters":{"binary_data_size":13})"), std::string::npos);
  EXPECT_EQ(encoded.body.substr(*encoded.header_length), layout);
}

TEST(V2JsonEncoder, NonUtf8BytesOutputFallsBackToBinary) {
  const std::string layout = BytesLayout({"ok", "\xFF\xFE"});
  auto encoded = EncodeInferResponse(MakeResponse({MakeTensor("s", DataType::kBytes, {2}, layout)}),
                                     InferenceRequest{});
  ASSERT_TRUE(encoded.header_length.has_value());
  EXPECT_EQ(
      encoded.body.substr(0, *encoded.header_length),
      R"({"model_name":"m","model_version":"3","outputs":[)"
      R"({"name":"s","datatype":"BYTES","shape":[2],"parameters":{"binary_data_size":12}}]})");
  EXPECT_EQ(encoded.body.substr(*encoded.header_length), layout);
}

TEST(V2JsonEncoder, BinaryDataFalseAtRequestLevelKeepsJson) {
  InferenceRequest request;
  request.parameters = {{"binary_data_output", false}};
  auto encoded = EncodeInferResponse(
      MakeResponse({MakeTensor("y", DataType::kInt8, {1}, RawBytes<int8_t>({1}))}), request);
  EXPECT_FALSE(encoded.header_length.has_value());
}

TEST(V2JsonEncoder, EscapesModelAndOutputNames) {
  InferenceResponse response = MakeResponse({MakeTensor("o\\p", DataType::kInt8, {0}, "")});
  response.model_name = "a\"b";
  EXPECT_EQ(EncodeInferResponse(response, {}).body,
            R"({"model_name":"a\"b","model_version":"3","outputs":[)"
            R"({"name":"o\\p","datatype":"INT8","shape":[0],"data":[]}]})");
}

TEST(V2JsonEncoder, ErrorMessagesAreEscaped) {
  EXPECT_EQ(EncodeError("plain"), R"({"error":"plain"})");
  EXPECT_EQ(EncodeError("input 'x': bad \"quote\"\\ and\nnewline\t\x01"),
            R"({"error":"input 'x': bad \"quote\"\\ and\nnewline\t\u0001"})");
}

TEST(V2JsonEncoder, ErrorMessagesWithInvalidUtf8StayValidJson) {
  EXPECT_EQ(EncodeError("bad \xFF byte"), "{\"error\":\"bad \xEF\xBF\xBD byte\"}");
}

}  // namespace
}  // namespace inferd::protocol
