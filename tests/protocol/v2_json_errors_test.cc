// Data-driven malformed-request cases: each body must fail with INVALID_ARGUMENT and a message
// that contains the expected text.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/test_util.h"
#include "protocol/v2_json_codec.h"

namespace inferd::protocol {
namespace {

using testing::BytesLayout;
using testing::RawBytes;

struct ErrorCase {
  std::string name;    // test name suffix
  std::string json;    // the JSON header
  std::string binary;  // binary section; when non-empty the header length is json.size()
  std::string error;   // expected substring of the message
};

// The tail of a request body whose only input is valid.
constexpr char kOneGoodInput[] =
    R"("inputs":[{"name":"x","shape":[1],"datatype":"INT8","data":[1]}]})";

// `{"inputs":[<input>]}`
std::string OneInput(const std::string& input) { return R"({"inputs":[)" + input + "]}"; }

std::vector<ErrorCase> ErrorCases() {
  return {
      // Body-level structure.
      {"BrokenJson", R"({"inputs":[)", "", "unable to parse request body: "},
      {"EmptyBody", "", "", "unable to parse request body: "},
      {"TrailingGarbageAfterJson", R"({"inputs":[]} x)", "", "unable to parse request body"},
      {"NonObjectBody", "[1,2]", "", "request body must be a JSON object"},
      {"StringBody", R"("inputs")", "", "request body must be a JSON object"},
      {"MissingInputs", R"({"id":"a"})", "", "request has no 'inputs'"},
      {"InputsNotAnArray", R"({"inputs":{}})", "", "request 'inputs' must be an array"},
      {"IdNotAString", R"({"id":7,"inputs":[]})", "", "request 'id' must be a string"},
      {"ParametersNotAnObject", std::string(R"({"parameters":[],)") + kOneGoodInput, "",
       "request: 'parameters' must be an object"},
      {"ParameterValueIsAnArray", std::string(R"({"parameters":{"p":[1]},)") + kOneGoodInput, "",
       "request: parameter 'p' must be a bool, number or string"},
      {"ParameterValueIsNull", std::string(R"({"parameters":{"p":null},)") + kOneGoodInput, "",
       "parameter 'p' must be a bool, number or string"},
      {"ParameterBeyondInt64",
       std::string(R"({"parameters":{"p":18446744073709551615},)") + kOneGoodInput, "",
       "parameter 'p' is out of the int64 range"},

      // Input fields.
      {"InputNotAnObject", R"({"inputs":[3]})", "", "inputs[0] must be an object"},
      {"InputWithoutName", OneInput(R"({"shape":[1],"datatype":"INT8","data":[1]})"), "",
       "inputs[0]: 'name' must be a string"},
      {"InputNameNotAString", OneInput(R"({"name":1,"shape":[1],"datatype":"INT8","data":[1]})"),
       "", "inputs[0]: 'name' must be a string"},
      {"MissingDatatype", OneInput(R"({"name":"x","shape":[1],"data":[1]})"), "",
       "input 'x': 'datatype' must be a string"},
      {"UnknownDatatype", OneInput(R"({"name":"x","shape":[1],"datatype":"FP33","data":[1]})"), "",
       "input 'x': unknown datatype 'FP33'"},
      {"LowercaseDatatype", OneInput(R"({"name":"x","shape":[1],"datatype":"fp32","data":[1]})"),
       "", "input 'x': unknown datatype 'fp32'"},
      {"MissingShape", OneInput(R"({"name":"x","datatype":"INT8","data":[1]})"), "",
       "input 'x': 'shape' must be an array of non-negative integers"},
      {"NegativeDim", OneInput(R"({"name":"x","shape":[-1],"datatype":"INT8","data":[1]})"), "",
       "input 'x': 'shape' must be an array of non-negative integers"},
      {"FractionalDim", OneInput(R"({"name":"x","shape":[1.5],"datatype":"INT8","data":[1]})"), "",
       "input 'x': 'shape' must be an array of non-negative integers"},
      {"ShapeOverflows",
       OneInput(R"({"name":"x","shape":[4294967296,4294967296,4],"datatype":"INT8","data":[1]})"),
       "", "input 'x': shape [4294967296,4294967296,4] has too many elements"},
      {"DuplicateInputNames",
       R"({"inputs":[{"name":"x","shape":[1],"datatype":"INT8","data":[1]},)"
       R"({"name":"x","shape":[1],"datatype":"INT8","data":[2]}]})",
       "", "input 'x' appears more than once"},
      {"NoDataAndNoBinary", OneInput(R"({"name":"x","shape":[1],"datatype":"INT8"})"), "",
       "input 'x': has neither 'data' nor binary_data_size"},
      {"InputParametersNotAnObject",
       OneInput(R"({"name":"x","shape":[1],"datatype":"INT8","parameters":3,"data":[1]})"), "",
       "input 'x': 'parameters' must be an object"},

      // JSON data.
      {"DataNotAnArray", OneInput(R"({"name":"x","shape":[1],"datatype":"INT8","data":5})"), "",
       "input 'x': 'data' must be an array, got an integer"},
      {"TooFewElements",
       OneInput(R"({"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5]})"), "",
       "input 'x': expected 6 elements for shape [2,3], got 5"},
      {"TooManyElements", OneInput(R"({"name":"x","shape":[1],"datatype":"FP32","data":[1,2]})"),
       "", "input 'x': expected 1 elements for shape [1], got 2"},
      {"RaggedNestedData",
       OneInput(R"({"name":"x","shape":[2,3],"datatype":"FP32","data":[[1,2,3],[4,5]]})"), "",
       "input 'x': nested data does not match shape [2,3]: data[1] has 2 elements, expected 3"},
      {"NestedOuterDimensionMismatch",
       OneInput(R"({"name":"x","shape":[2,3],"datatype":"FP32","data":[[1,2,3]]})"), "",
       "nested data does not match shape [2,3]: data has 1 elements, expected 2"},
      {"NestedDeeperThanShape",
       OneInput(R"({"name":"x","shape":[2],"datatype":"FP32","data":[[1],[2]]})"), "",
       "data[0] is an array nested deeper than the shape"},
      {"NestedDeeperThanShapeAtLeaf",
       OneInput(R"({"name":"x","shape":[1,2],"datatype":"FP32","data":[[[1],[2]]]})"), "",
       "data[0][0] is an array nested deeper than the shape"},
      {"NestedMixedWithScalars",
       OneInput(R"({"name":"x","shape":[2,3],"datatype":"FP32","data":[[1,2,3],4]})"), "",
       "data[1] is not an array"},
      {"NestedDataForScalar", OneInput(R"({"name":"x","shape":[],"datatype":"FP32","data":[[1]]})"),
       "", "nested data for a scalar"},
      {"StringForInteger", OneInput(R"({"name":"x","shape":[1],"datatype":"INT32","data":["1"]})"),
       "", "input 'x': element 0: expected an integer for INT32, got a string"},
      {"FractionForInteger",
       OneInput(R"({"name":"x","shape":[2],"datatype":"INT32","data":[1,1.5]})"), "",
       "input 'x': element 1: expected an integer for INT32, got a number 1.5"},
      {"Uint8TooLarge", OneInput(R"({"name":"x","shape":[2],"datatype":"UINT8","data":[1,300]})"),
       "", "input 'x': element 1: value 300 is out of range for UINT8"},
      {"Int8TooSmall", OneInput(R"({"name":"x","shape":[1],"datatype":"INT8","data":[-129]})"), "",
       "value -129 is out of range for INT8"},
      {"Uint32Negative", OneInput(R"({"name":"x","shape":[1],"datatype":"UINT32","data":[-1]})"),
       "", "value -1 is out of range for UINT32"},
      {"Uint64Negative", OneInput(R"({"name":"x","shape":[1],"datatype":"UINT64","data":[-1]})"),
       "", "value -1 is out of range for UINT64"},
      {"Int64TooLarge",
       OneInput(R"({"name":"x","shape":[1],"datatype":"INT64","data":[9223372036854775808]})"), "",
       "value 9223372036854775808 is out of range for INT64"},
      {"Int16TooLarge", OneInput(R"({"name":"x","shape":[1],"datatype":"INT16","data":[32768]})"),
       "", "value 32768 is out of range for INT16"},
      {"Uint16TooLarge", OneInput(R"({"name":"x","shape":[1],"datatype":"UINT16","data":[65536]})"),
       "", "value 65536 is out of range for UINT16"},
      {"NumberForBool", OneInput(R"({"name":"x","shape":[1],"datatype":"BOOL","data":[1]})"), "",
       "element 0: expected true or false for BOOL, got an integer"},
      {"StringForFloat", OneInput(R"({"name":"x","shape":[1],"datatype":"FP32","data":["abc"]})"),
       "", "element 0: expected a number for FP32, got a string"},
      {"NullForFloat", OneInput(R"({"name":"x","shape":[1],"datatype":"FP64","data":[null]})"), "",
       "expected a number for FP64, got null"},
      {"Fp32OutOfRange", OneInput(R"({"name":"x","shape":[1],"datatype":"FP32","data":[1e39]})"),
       "", "is out of range for FP32"},
      {"Fp16OutOfRange", OneInput(R"({"name":"x","shape":[1],"datatype":"FP16","data":[70000]})"),
       "", "value 70000 is out of range for FP16"},
      {"Bf16OutOfRange", OneInput(R"({"name":"x","shape":[1],"datatype":"BF16","data":[1e39]})"),
       "", "is out of range for BF16"},
      {"NumberForBytes", OneInput(R"({"name":"x","shape":[1],"datatype":"BYTES","data":[1]})"), "",
       "element 0: expected a string for BYTES, got an integer"},
      {"ObjectForInteger", OneInput(R"({"name":"x","shape":[1],"datatype":"INT8","data":[{}]})"),
       "", "expected an integer for INT8, got an object"},

      // Binary data.
      {"BothDataAndBinary",
       OneInput(R"({"name":"x","shape":[1],"datatype":"INT8","data":[1],)"
                R"("parameters":{"binary_data_size":1}})"),
       "\x01", "input 'x': has both 'data' and binary_data_size"},
      {"NegativeBinaryDataSize",
       OneInput(
           R"({"name":"x","shape":[1],"datatype":"INT8","parameters":{"binary_data_size":-1}})"),
       "\x01", "input 'x': binary_data_size must be a non-negative integer"},
      {"StringBinaryDataSize",
       OneInput(
           R"({"name":"x","shape":[1],"datatype":"INT8","parameters":{"binary_data_size":"1"}})"),
       "\x01", "input 'x': binary_data_size must be a non-negative integer"},
      {"TruncatedBinary",
       OneInput(
           R"({"name":"x","shape":[100],"datatype":"FP32","parameters":{"binary_data_size":400}})"),
       std::string(120, '\0'),
       "input 'x': binary_data_size 400 exceeds the 120 bytes of binary data left"},
      {"BinaryWithoutHeaderLength",
       OneInput(
           R"({"name":"x","shape":[1],"datatype":"INT8","parameters":{"binary_data_size":1}})"),
       "", "input 'x': binary_data_size 1 exceeds the 0 bytes of binary data left"},
      {"TrailingBinary", OneInput(R"({"name":"x","shape":[1],"datatype":"INT8","data":[1]})"),
       std::string(8, '\0'), "binary section has 8 bytes that no input claims"},
      {"TrailingBinaryAfterClaimedBytes",
       OneInput(
           R"({"name":"x","shape":[1],"datatype":"INT8","parameters":{"binary_data_size":1}})"),
       std::string(3, '\0'), "binary section has 2 bytes that no input claims"},
      {"BinarySizeDoesNotMatchShape",
       OneInput(
           R"({"name":"x","shape":[2,3],"datatype":"FP32","parameters":{"binary_data_size":20}})"),
       std::string(20, '\0'),
       "input 'x': binary_data_size 20 does not match shape [2,3] of FP32, which needs 24 bytes"},
      {"BinaryBytesTruncatedElement",
       OneInput(
           R"({"name":"x","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":6}})"),
       BytesLayout({"hello"}).substr(0, 6), "input 'x': BYTES element at offset 0 claims 5 bytes"},
      {"BinaryBytesElementCountMismatch",
       OneInput(
           R"({"name":"x","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":6}})"),
       BytesLayout({"ab"}), "input 'x': binary data holds 1 BYTES elements but shape [2] needs 2"},

      // Requested outputs.
      {"OutputsNotAnArray",
       R"({"inputs":[{"name":"x","shape":[1],"datatype":"INT8","data":[1]}],"outputs":{}})", "",
       "request 'outputs' must be an array"},
      {"OutputNotAnObject",
       R"({"inputs":[{"name":"x","shape":[1],"datatype":"INT8","data":[1]}],"outputs":["y"]})", "",
       "outputs[0] must be an object"},
      {"OutputWithoutName",
       R"({"inputs":[{"name":"x","shape":[1],"datatype":"INT8","data":[1]}],"outputs":[{}]})", "",
       "outputs[0]: 'name' must be a string"},
      {"DuplicateOutputs",
       R"({"inputs":[{"name":"x","shape":[1],"datatype":"INT8","data":[1]}],)"
       R"("outputs":[{"name":"y"},{"name":"y"}]})",
       "", "output 'y' is requested more than once"},
      {"OutputParameterNotAValue",
       R"({"inputs":[{"name":"x","shape":[1],"datatype":"INT8","data":[1]}],)"
       R"("outputs":[{"name":"y","parameters":{"binary_data":{}}}]})",
       "", "output 'y': parameter 'binary_data' must be a bool, number or string"},
  };
}

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class MalformedRequest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(MalformedRequest, IsRejectedWithAMessageNamingTheField) {
  const ErrorCase& c = GetParam();
  auto body = std::make_shared<const std::string>(c.json + c.binary);
  auto request = DecodeInferRequest(
      body, c.binary.empty() ? std::nullopt : std::optional<size_t>(c.json.size()));
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(request.status().message().find(c.error), std::string::npos)
      << "message: " << request.status().message() << "\nexpected: " << c.error;
}

INSTANTIATE_TEST_SUITE_P(V2JsonDecoder, MalformedRequest, ::testing::ValuesIn(ErrorCases()),
                         [](const auto& info) { return info.param.name; });

TEST(V2JsonDecoder, HeaderLengthLargerThanTheBodyIsRejected) {
  auto body = std::make_shared<const std::string>(R"({"inputs":[]})");
  auto request = DecodeInferRequest(body, body->size() + 1);
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(request.status().message().find(
                "Inference-Header-Content-Length 14 is larger than the 13 byte request body"),
            std::string::npos)
      << request.status().message();
}

TEST(V2JsonDecoder, NullBodyIsRejected) {
  auto request = DecodeInferRequest(nullptr, std::nullopt);
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument);
}

TEST(V2JsonDecoder, HeaderLengthCutsTheJsonShort) {
  const std::string json = R"({"inputs":[{"name":"x","shape":[1],"datatype":"INT8","data":[1]}]})";
  auto request = DecodeInferRequest(std::make_shared<const std::string>(json), json.size() - 2);
  ASSERT_FALSE(request.ok());
  EXPECT_NE(request.status().message().find("unable to parse request body"), std::string::npos);
}

}  // namespace
}  // namespace inferd::protocol
