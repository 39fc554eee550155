// The On-Demand request decoder against the DOM decoder it stands in front of
// (v2_json_request_decoders.h): wherever the On-Demand decoder returns a request, the DOM decoder
// must return an equal one; where it declines, DecodeInferRequest must still give the DOM
// decoder's answer. The cases that matter most are also checked to be taken by the On-Demand
// decoder, so that a silent decline (a lost speed-up) fails a test too.
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "protocol/float_json_array.h"
#include "protocol/v2_json_codec.h"
#include "protocol/v2_json_request_decoders.h"

namespace inferd::protocol {
namespace {

// A body with simdjson's padding in its allocation, as the HTTP frontend makes them.
std::shared_ptr<const std::string> PaddedBody(const std::string& json) {
  auto body = std::make_shared<std::string>(json);
  body->reserve(json.size() + kRequestBodyPadding);
  return body;
}

std::string TensorBytes(const Tensor& tensor) {
  return {reinterpret_cast<const char*>(tensor.data().data()), tensor.byte_size()};
}

void ExpectSameRequest(const InferenceRequest& a, const InferenceRequest& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.parameters, b.parameters);
  ASSERT_EQ(a.inputs.size(), b.inputs.size());
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    EXPECT_EQ(a.inputs[i].name(), b.inputs[i].name());
    EXPECT_EQ(a.inputs[i].dtype(), b.inputs[i].dtype());
    EXPECT_EQ(a.inputs[i].shape(), b.inputs[i].shape());
    EXPECT_EQ(TensorBytes(a.inputs[i]), TensorBytes(b.inputs[i])) << a.inputs[i].name();
  }
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    EXPECT_EQ(a.outputs[i].name, b.outputs[i].name);
    EXPECT_EQ(a.outputs[i].parameters, b.outputs[i].parameters);
    EXPECT_EQ(a.outputs[i].binary_data, b.outputs[i].binary_data);
  }
}

// Checks the contract on `json` (+ binary) and returns whether On-Demand took the request.
bool DecodersAgree(const std::string& json, const std::string& binary = "",
                   const DecodeLimits& limits = {}) {
  const auto body = PaddedBody(json + binary);
  const size_t json_size = json.size();
  const std::optional<InferenceRequest> fast =
      TryDecodeInferRequestOnDemand(body, json_size, limits);
  const Result<InferenceRequest> dom = DecodeInferRequestDom(body, json_size, limits);
  const Result<InferenceRequest> public_result =
      DecodeInferRequest(body, binary.empty() ? std::nullopt : std::optional(json_size), limits);
  if (fast) {
    EXPECT_TRUE(dom.ok()) << json << "\nOn-Demand accepted what DOM rejects: "
                          << dom.status().message();
    if (dom.ok()) ExpectSameRequest(*fast, *dom);
  }
  EXPECT_EQ(public_result.ok(), dom.ok()) << json;
  if (!dom.ok() && !public_result.ok()) {
    EXPECT_EQ(public_result.status().message(), dom.status().message());
  }
  return fast.has_value();
}

std::string Input(const std::string& datatype, const std::string& shape,
                  const std::string& data) {
  return R"({"inputs":[{"name":"x","datatype":")" + datatype + R"(","shape":)" + shape +
         R"(,"data":)" + data + "}]}";
}

TEST(V2JsonOnDemandDecoder, TakesTheUsualRequestsAndAgreesWithDom) {
  const std::vector<std::string> cases = {
      Input("FP32", "[1,3]", "[-0.16595602,0.9943696,0.44064903]"),
      Input("FP32", "[2,2]", "[[1.5,-2.25],[3e2,4E-1]]"),
      Input("FP64", "[3]", R"([0.1,"NaN","-Infinity"])"),
      Input("FP16", "[2]", "[65504,-1.5]"),
      Input("BF16", "[2]", "[1e38,-0.0]"),
      Input("INT64", "[2]", "[-9223372036854775808,9223372036854775807]"),
      Input("UINT8", "[1,2]", "[[0,255]]"),
      Input("BOOL", "[2]", "[true,false]"),
      Input("BYTES", "[2]", R"(["a\"b","\u00e9"])"),
      Input("FP32", "[0]", "[]"),
      Input("FP32", "[2,0]", "[[],[]]"),
      Input("FP32", "[]", "[7]"),
      Input("FP32", "[2]", "[ 1 ,\n\t2 ]"),
      R"({"id":"r1","parameters":{"a":1,"b":1.5,"c":"s","d":true},"inputs":[)"
      R"({"name":"x","datatype":"INT8","shape":[1],"data":[1],"parameters":{"p":2}}],)"
      R"("outputs":[{"name":"y","parameters":{"binary_data":true}},{"name":"z"}],"extra":[{}]})",
      // A repeated binary_data: the last one counts, whatever its type.
      R"({"inputs":[],"outputs":[{"name":"y","parameters":{"binary_data":true,"binary_data":"x"}}]})",
      R"({"inputs":[],"outputs":[{"name":"y","parameters":{"binary_data":"x","binary_data":false}}]})",
  };
  for (const std::string& json : cases) {
    EXPECT_TRUE(DecodersAgree(json)) << json;
  }
}

TEST(V2JsonOnDemandDecoder, ReadsDataThatComesBeforeShapeAndDatatype) {
  EXPECT_TRUE(DecodersAgree(
      R"({"inputs":[{"data":[[1.25,2],[3,4]],"shape":[2,2],"name":"x","datatype":"FP32"}]})"));
  EXPECT_TRUE(DecodersAgree(
      R"({"outputs":[{"name":"y"}],"inputs":[{"data":["a"],"datatype":"BYTES","shape":[1],)"
      R"("unknown":{"k":[1,2,{"z":null}]},"name":"x"}],"id":"i"})"));
}

TEST(V2JsonOnDemandDecoder, TakesBinaryInputs) {
  const std::string json =
      R"({"inputs":[{"name":"x","shape":[2],"datatype":"INT16",)"
      R"("parameters":{"binary_data_size":4}}]})";
  EXPECT_TRUE(DecodersAgree(json, std::string("\x01\x00\x02\x00", 4)));
}

// An input's parameters keep only binary_data_size (the last of duplicates, as a map keeps
// it); the others are validated but not kept, by either decoder.
TEST(V2JsonOnDemandDecoder, ReadsBinaryDataSizeAmongOtherInputParameters) {
  const std::string binary("\x01\x00\x02\x00", 4);
  EXPECT_TRUE(DecodersAgree(
      R"({"inputs":[{"name":"x","shape":[2],"datatype":"INT16","parameters":)"
      R"({"note":"a long string value, past the small-string size","binary_data_size":4,)"
      R"("flag":true,"scale":1.5}}]})",
      binary));
  EXPECT_TRUE(DecodersAgree(
      R"({"inputs":[{"name":"x","shape":[2],"datatype":"INT16","parameters":)"
      R"({"binary_data_size":9,"binary_data_size":4}}]})",
      binary));
  // Not an integer, a negative size, and data as well: errors, in the DOM decoder's words.
  for (const std::string size : {"\"4\"", "4.0", "-4", "true"}) {
    EXPECT_FALSE(DecodersAgree(R"({"inputs":[{"name":"x","shape":[2],"datatype":"INT16",)"
                               R"("parameters":{"binary_data_size":)" +
                                   size + "}}]}",
                               binary))
        << size;
  }
  EXPECT_FALSE(DecodersAgree(R"({"inputs":[{"name":"x","shape":[2],"datatype":"INT16",)"
                             R"("data":[1,2],"parameters":{"binary_data_size":4}}]})",
                             binary));
}

// Duplicate input names are found pairwise among a few inputs and through a set among many.
TEST(V2JsonOnDemandDecoder, DeclinesDuplicateInputNamesAmongFewAndMany) {
  for (const int count : {2, 16, 17, 40}) {
    std::string unique = R"({"inputs":[)";
    for (int i = 0; i < count; ++i) {
      if (i > 0) unique += ',';
      unique += R"({"name":"in)" + std::to_string(i) +
                R"(","datatype":"INT32","shape":[1],"data":[1]})";
    }
    EXPECT_TRUE(DecodersAgree(unique + "]}")) << count;
    // The last input takes the first one's name.
    std::string duplicate = unique;
    const std::string last = "\"in" + std::to_string(count - 1) + "\"";
    duplicate.replace(duplicate.rfind(last), last.size(), "\"in0\"");
    EXPECT_FALSE(DecodersAgree(duplicate + "]}")) << count;
  }
}

// Spellings where simdjson's On-Demand and DOM APIs read differently, or that are rare enough
// to leave to the DOM decoder: the result must still be the DOM decoder's.
TEST(V2JsonOnDemandDecoder, AgreesWithDomOnSpellingsItMayDecline) {
  const std::vector<std::string> cases = {
      Input("FP32", "[1]", "[-0]"),  // DOM: the integer 0, so +0.0
      Input("FP32", "[1]", "[123456789012345678901234567890]"),
      Input("FP32", "[1]", "[18446744073709551615]"),
      Input("FP64", "[1]", "[1e-400]"),
      Input("FP64", "[1]", "[1e400]"),
      Input("FP32", "[1]", R"(["\u004eaN"])"),
      Input("INT32", "[1]", "[-0]"),
      Input("INT32", "[-0]", "[]"),
      Input("INT32", "[1]", "[1.0]"),
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"d\u0061ta":[1]}]})",
      R"({"inputs":[{"d\u0061ta":[1],"name":"x","datatype":"FP32","shape":[1]}]})",
      R"({"inputs":[{"name":"x","name":"y","datatype":"FP32","shape":[1],"data":[1]}]})",
      R"({"parameters":{"p":-0},"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]})",
      R"({"parameters":{"p":18446744073709551615},"inputs":[]})",
      R"({"inputs":[]})",
  };
  for (const std::string& json : cases) DecodersAgree(json);
}

TEST(V2JsonOnDemandDecoder, DeclinesEveryMalformedRequest) {
  const std::vector<std::string> cases = {
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]} x)",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}])",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1,]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1 2]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[01]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1.]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[.5]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[+1]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1e]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[NaN]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":["nan"]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1e39]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP16","shape":[1],"data":[65520]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2,2],"data":[[1,2],[3]]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2,1],"data":[[1],2]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[[1],[2]]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[[[1]]]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1],"junk":[tru]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}],"id":"\x"})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[3],"data":[1,2]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1,2]}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1000000000000],"data":[1]}]})",
      R"({"inputs":[{"name":"x","datatype":"INT8","shape":[1],"data":[128]}]})",
      R"({"inputs":[{"name":"x","datatype":"INT8","shape":[1],"data":[1],)"
      R"("parameters":{"binary_data_size":1}}]})",
  };
  for (const std::string& json : cases) {
    EXPECT_FALSE(DecodersAgree(json)) << json;
  }
}

TEST(V2JsonOnDemandDecoder, LeavesNestingNearTheDepthLimitToDom) {
  const std::string json = Input("FP32", "[1,1,1]", "[[[1]]]");  // 6 levels deep
  for (size_t depth = 1; depth < 10; ++depth) {
    DecodersAgree(json, "", DecodeLimits{.max_json_depth = depth});
  }
  EXPECT_TRUE(DecodersAgree(json, "", DecodeLimits{.max_json_depth = 8}));
}

// Random spellings of numbers, valid and not, in float data of each width: the On-Demand
// decoder's own number reading must give the DOM parser's values bit for bit.
TEST(V2JsonOnDemandDecoder, ReadsRandomNumbersAsDomDoes) {
  std::mt19937_64 rng(7);
  const auto digits = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>('0' + rng() % 10);
    return s;
  };
  int taken = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string number;
    if (rng() % 2) number += '-';
    number += digits(1 + static_cast<int>(rng() % (rng() % 4 == 0 ? 22 : 3)));
    if (rng() % 4 != 0) number += "." + digits(1 + static_cast<int>(rng() % 20));
    if (rng() % 4 == 0) {
      number += rng() % 2 ? 'e' : 'E';
      if (rng() % 2) number += rng() % 2 ? '-' : '+';
      number += digits(1 + static_cast<int>(rng() % 3));
    }
    for (const char* datatype : {"FP16", "BF16", "FP32", "FP64"}) {
      taken += DecodersAgree(Input(datatype, "[2]", "[" + number + ",0.5]")) ? 1 : 0;
    }
  }
  EXPECT_GT(taken, 6000);  // most of them are valid, usual spellings
}

// Valid requests with a few bytes changed to JSON punctuation, digits or letters: whatever comes
// of it, the public decoder must answer as the DOM decoder does.
TEST(V2JsonOnDemandDecoder, AgreesWithDomOnMutatedRequests) {
  const std::vector<std::string> seeds = {
      Input("FP32", "[2,3]", "[[1.5,-2e-3,0.25],[3,\"NaN\",-0.0]]"),
      Input("FP16", "[4]", "[1.5, -2 ,3e1,\"Infinity\"]"),
      Input("INT32", "[2,2]", "[[1,-2],[3,4]]"),
      Input("BYTES", "[2]", R"(["ab","c\n"])"),
      R"({"inputs":[{"data":[1,2],"shape":[2],"name":"x","datatype":"FP64"}],)"
      R"("outputs":[{"name":"y","parameters":{"binary_data":true}}],"parameters":{"p":1}})",
  };
  const std::string alphabet = "0123456789-+.eE,[]{}\" :aN\\";
  std::mt19937 rng(3);
  int taken = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string json = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % json.size();
      switch (rng() % 3) {
        case 0:
          json[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          json.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          json.erase(at, 1);
      }
    }
    taken += DecodersAgree(json) ? 1 : 0;
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "first disagreement on: " << json;
      return;
    }
  }
  EXPECT_GT(taken, 1000);  // mutations that keep the request valid are taken too
}

TEST(JsonFloatToken, MatchesFromCharsOnValidNumbers) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> mantissa(-10, 10);
  for (int i = 0; i < 20000; ++i) {
    char text[64];
    const double value = mantissa(rng) * std::pow(10.0, static_cast<int>(rng() % 60) - 30);
    const int precision = 1 + static_cast<int>(rng() % 17);
    const int size = std::snprintf(text, sizeof(text), "%.*g", precision, value);
    std::string token(text, static_cast<size_t>(size));
    const bool integer = token.find_first_of(".eE") == std::string::npos;
    std::string padded = token + std::string(32, ' ');
    double parsed = 0;
    const bool ok = ParseJsonFloatToken({padded.data(), token.size()}, parsed);
    double expected = 0;
    std::from_chars(token.data(), token.data() + token.size(), expected);
    if (integer && token.size() > 18) continue;  // left to the DOM decoder
    ASSERT_TRUE(ok) << token;
    if (integer && expected == 0) expected = 0.0;  // the DOM parser's integer 0 for "-0"
    EXPECT_EQ(std::signbit(parsed), std::signbit(expected)) << token;
    EXPECT_EQ(parsed, expected) << token;
  }
}

TEST(JsonFloatToken, RejectsWhatJsonRejects) {
  for (const char* token : {"", "-", "+1", "01", "-01", "1.", ".5", "1e", "1e+", "--1", "1x",
                            "0x10", "inf", "nan", "Infinity", "\"NaN", "\"nan\"", "1 2"}) {
    std::string padded = std::string(token) + std::string(32, '\0');
    double parsed;
    EXPECT_FALSE(ParseJsonFloatToken({padded.data(), std::strlen(token)}, parsed)) << token;
  }
}

}  // namespace
}  // namespace inferd::protocol
