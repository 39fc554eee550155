// Round trips through both directions: decode a request, answer with its inputs as outputs,
// encode, and check the JSON text and binary layout (and that JSON outputs decode back as inputs).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

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

// Echoes the request's inputs as the response's outputs, as an identity model would.
InferenceResponse Echo(const InferenceRequest& request) {
  InferenceResponse response;
  response.model_name = "identity";
  response.model_version = 1;
  response.id = request.id;
  response.outputs.assign(request.inputs.begin(), request.inputs.end());
  return response;
}

// The JSON outputs array of an encoded response, re-wrapped as a request's inputs.
std::string OutputsAsRequest(const std::string& body) {
  const std::string key = R"("outputs":)";
  const size_t start = body.find(key) + key.size();
  return R"({"inputs":)" + body.substr(start, body.size() - start - 1) + "}";
}

bool IsValidJson(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  return parser.parse(text.data(), text.size(), true).get(root) == simdjson::SUCCESS;
}

struct RoundTripCase {
  const char* datatype;
  const char* json_data;     // as sent
  const char* encoded_data;  // as the encoder writes it back
};

void PrintTo(const RoundTripCase& c, std::ostream* os) { *os << c.datatype << " " << c.json_data; }

class JsonRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(JsonRoundTrip, EncodesTheDecodedValuesAndDecodesThemAgain) {
  const RoundTripCase& c = GetParam();
  auto request = DecodeJson(fmt::format(
      R"({{"id":"r1","inputs":[{{"name":"x","shape":[3],"datatype":"{}","data":{}}}]}})",
      c.datatype, c.json_data));
  ASSERT_TRUE(request.ok()) << request.status().ToString();

  auto encoded = EncodeInferResponse(Echo(*request), *request);
  EXPECT_FALSE(encoded.header_length.has_value());
  EXPECT_EQ(encoded.body,
            fmt::format(R"({{"model_name":"identity","model_version":"1","id":"r1","outputs":[)"
                        R"({{"name":"x","datatype":"{}","shape":[3],"data":{}}}]}})",
                        c.datatype, c.encoded_data));
  EXPECT_TRUE(IsValidJson(encoded.body));

  auto again = DecodeJson(OutputsAsRequest(encoded.body));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(TensorBytes(again->inputs[0]), TensorBytes(request->inputs[0]));
}

INSTANTIATE_TEST_SUITE_P(
    V2Json, JsonRoundTrip,
    ::testing::Values(
        RoundTripCase{"BOOL", "[true,false,true]", "[true,false,true]"},
        RoundTripCase{"UINT8", "[0,1,255]", "[0,1,255]"},
        RoundTripCase{"UINT16", "[0,1,65535]", "[0,1,65535]"},
        RoundTripCase{"UINT32", "[0,1,4294967295]", "[0,1,4294967295]"},
        RoundTripCase{"UINT64", "[0,1,18446744073709551615]", "[0,1,18446744073709551615]"},
        RoundTripCase{"INT8", "[-128,0,127]", "[-128,0,127]"},
        RoundTripCase{"INT16", "[-32768,0,32767]", "[-32768,0,32767]"},
        RoundTripCase{"INT32", "[-2147483648,0,2147483647]", "[-2147483648,0,2147483647]"},
        RoundTripCase{"INT64", "[-9223372036854775808,0,9223372036854775807]",
                      "[-9223372036854775808,0,9223372036854775807]"},
        RoundTripCase{"FP16", "[0.1,1.0,-65504]", "[0.099975586,1,-65504]"},
        RoundTripCase{"BF16", "[0.1,1.5,-3]", "[0.100097656,1.5,-3]"},
        RoundTripCase{"FP32", "[0.1,1.0e10,-3.25]", "[0.1,10000000000,-3.25]"},
        RoundTripCase{"FP64", "[0.1,1e-300,-3.25]", "[0.1,1e-300,-3.25]"},
        RoundTripCase{"BYTES", R"(["a\"b","","\u00e9\n"])", "[\"a\\\"b\",\"\",\"\xC3\xA9\\n\"]"}),
    [](const auto& info) { return std::string(info.param.datatype); });

TEST(V2JsonRoundTrip, BinaryInputsComeBackAsTheSameBinaryLayout) {
  const std::string binary = RawBytes<float>({1.5f, -2.0f, 3.0f, 0.25f}) +
                             BytesLayout({"hello", "", "w"}) + RawBytes<uint16_t>({0x3C00});
  auto request = DecodeWithBinary(
      R"({"id":"b","parameters":{"binary_data_output":true},"inputs":[)"
      R"({"name":"f","shape":[2,2],"datatype":"FP32","parameters":{"binary_data_size":16}},)"
      R"({"name":"s","shape":[3],"datatype":"BYTES","parameters":{"binary_data_size":18}},)"
      R"({"name":"h","shape":[1],"datatype":"FP16","parameters":{"binary_data_size":2}}]})",
      binary);
  ASSERT_TRUE(request.ok()) << request.status().ToString();

  auto encoded = EncodeInferResponse(Echo(*request), *request);
  ASSERT_TRUE(encoded.header_length.has_value());
  const std::string json = encoded.body.substr(0, *encoded.header_length);
  EXPECT_EQ(json,
            R"({"model_name":"identity","model_version":"1","id":"b","outputs":[)"
            R"({"name":"f","datatype":"FP32","shape":[2,2],"parameters":{"binary_data_size":16}},)"
            R"({"name":"s","datatype":"BYTES","shape":[3],"parameters":{"binary_data_size":18}},)"
            R"({"name":"h","datatype":"FP16","shape":[1],"parameters":{"binary_data_size":2}}]})");
  EXPECT_TRUE(IsValidJson(json));
  EXPECT_EQ(encoded.body.substr(*encoded.header_length), binary);
}

TEST(V2JsonRoundTrip, RequestedOutputsChooseJsonOrBinaryPerOutput) {
  auto request =
      DecodeJson(R"({"inputs":[{"name":"a","shape":[1],"datatype":"INT32","data":[7]},)"
                 R"({"name":"b","shape":[1],"datatype":"BYTES","data":["x"]}],)"
                 R"("outputs":[{"name":"a","parameters":{"binary_data":true}},{"name":"b"}]})");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  auto encoded = EncodeInferResponse(Echo(*request), *request);
  ASSERT_TRUE(encoded.header_length.has_value());
  EXPECT_EQ(encoded.body.substr(0, *encoded.header_length),
            R"({"model_name":"identity","model_version":"1","outputs":[)"
            R"({"name":"a","datatype":"INT32","shape":[1],"parameters":{"binary_data_size":4}},)"
            R"({"name":"b","datatype":"BYTES","shape":[1],"data":["x"]}]})");
  EXPECT_EQ(encoded.body.substr(*encoded.header_length), RawBytes<int32_t>({7}));
}

TEST(V2JsonRoundTrip, JsonInputsComeBackBinaryWhenAsked) {
  auto request = DecodeJson(
      R"({"parameters":{"binary_data_output":true},)"
      R"("inputs":[{"name":"x","shape":[2,2],"datatype":"FP16","data":[[1,2],[0.5,-1]]}]})");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  auto encoded = EncodeInferResponse(Echo(*request), *request);
  ASSERT_TRUE(encoded.header_length.has_value());
  EXPECT_EQ(encoded.body.substr(*encoded.header_length),
            RawBytes<uint16_t>({0x3C00, 0x4000, 0x3800, 0xBC00}));
}

}  // namespace
}  // namespace inferd::protocol
