#include "bench/request_data.h"

#include <cstring>
#include <memory>

#include <gtest/gtest.h>

#include "protocol/v2_json_codec.h"

namespace inferd::bench {
namespace {

constexpr char kMetadata[] = R"({"name":"m","versions":["1"],"platform":"onnxruntime_onnx",
  "inputs":[{"name":"x","datatype":"FP32","shape":[-1,4]},
            {"name":"ids","datatype":"INT64","shape":[-1,-1]},
            {"name":"text","datatype":"BYTES","shape":[2]}],
  "outputs":[{"name":"y","datatype":"FP32","shape":[-1,2]}]})";

// Decodes an encoded body with the server's own codec: what the server would see.
InferenceRequest Decode(const HttpBody& body) {
  auto owned = std::make_shared<std::string>(body.body);
  owned->reserve(owned->size() + protocol::kRequestBodyPadding);
  auto r = protocol::DecodeInferRequest(owned, body.header_length);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << body.body;
  return r.ok() ? std::move(r).value() : InferenceRequest{};
}

TEST(ParseModelInputs, ReadsNamesTypesAndShapes) {
  auto specs = ParseModelInputs(kMetadata);
  ASSERT_TRUE(specs.ok()) << specs.status().ToString();
  ASSERT_EQ(specs->size(), 3u);
  EXPECT_EQ((*specs)[0].name, "x");
  EXPECT_EQ((*specs)[0].dtype, DataType::kFp32);
  EXPECT_EQ((*specs)[0].shape, (Shape{-1, 4}));
  EXPECT_EQ((*specs)[2].dtype, DataType::kBytes);
}

TEST(ParseModelInputs, RejectsMetadataWithoutUsableInputs) {
  EXPECT_FALSE(ParseModelInputs(R"({"error":"unknown model"})").ok());
  EXPECT_FALSE(ParseModelInputs(R"({"inputs":[]})").ok());
  EXPECT_FALSE(ParseModelInputs(R"({"inputs":[{"name":"x","datatype":"FP33","shape":[1]}]})")
                   .ok());
  EXPECT_FALSE(ParseModelInputs("not json").ok());
}

TEST(MakeInputs, PutsTheBatchSizeInTheFirstVariableDimAndOneElsewhere) {
  auto specs = ParseModelInputs(kMetadata);
  ASSERT_TRUE(specs.ok());
  auto inputs = MakeInputs(*specs, 8, InputFill::kZero, 1);
  ASSERT_TRUE(inputs.ok());
  EXPECT_EQ((*inputs)[0].shape(), (Shape{8, 4}));
  EXPECT_EQ((*inputs)[0].byte_size(), 8u * 4 * sizeof(float));
  EXPECT_EQ((*inputs)[1].shape(), (Shape{8, 1}));
  EXPECT_EQ((*inputs)[2].shape(), (Shape{2}));
  for (std::byte b : (*inputs)[0].data()) ASSERT_EQ(b, std::byte{0});
  EXPECT_TRUE((*inputs)[2].ValidateByteSize().ok());
}

TEST(MakeInputs, RandomFloatsLieInTheUnitIntervalAndDependOnTheSeed) {
  std::vector<InputSpec> specs{{"x", DataType::kFp32, {-1, 64}}};
  auto a = MakeInputs(specs, 1, InputFill::kRandom, 1);
  auto b = MakeInputs(specs, 1, InputFill::kRandom, 2);
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<float> va(64), vb(64);
  std::memcpy(va.data(), (*a)[0].data().data(), 64 * sizeof(float));
  std::memcpy(vb.data(), (*b)[0].data().data(), 64 * sizeof(float));
  for (float v : va) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LT(v, 1.0f);
  }
  EXPECT_NE(va, vb);
}

TEST(EncodeHttpRequest, JsonBodyDecodesToTheSameTensors) {
  auto specs = ParseModelInputs(kMetadata);
  ASSERT_TRUE(specs.ok());
  auto inputs = MakeInputs(*specs, 3, InputFill::kRandom, 5);
  ASSERT_TRUE(inputs.ok());
  HttpBody body = EncodeHttpRequest(*inputs, /*binary=*/false);
  EXPECT_FALSE(body.header_length.has_value());
  InferenceRequest decoded = Decode(body);
  ASSERT_EQ(decoded.inputs.size(), inputs->size());
  for (size_t i = 0; i < inputs->size(); ++i) {
    const Tensor& want = (*inputs)[i];
    const Tensor& got = decoded.inputs[i];
    EXPECT_EQ(got.name(), want.name());
    EXPECT_EQ(got.dtype(), want.dtype());
    EXPECT_EQ(got.shape(), want.shape());
    ASSERT_EQ(got.byte_size(), want.byte_size()) << want.name();
    EXPECT_EQ(std::memcmp(got.data().data(), want.data().data(), want.byte_size()), 0)
        << want.name();
  }
}

TEST(EncodeHttpRequest, BinaryBodyCarriesRawTensorsAndAsksForBinaryOutputs) {
  std::vector<InputSpec> specs{{"x", DataType::kFp32, {-1, 4}}};
  auto inputs = MakeInputs(specs, 2, InputFill::kRandom, 9);
  ASSERT_TRUE(inputs.ok());
  HttpBody body = EncodeHttpRequest(*inputs, /*binary=*/true);
  ASSERT_TRUE(body.header_length.has_value());
  EXPECT_EQ(body.body.size(), *body.header_length + 2 * 4 * sizeof(float));
  InferenceRequest decoded = Decode(body);
  ASSERT_EQ(decoded.inputs.size(), 1u);
  EXPECT_EQ(std::memcmp(decoded.inputs[0].data().data(), (*inputs)[0].data().data(), 32), 0);
  EXPECT_EQ(GetBoolParameter(decoded.parameters, "binary_data_output"), true);
}

TEST(LoadInputsFromFile, ReadsTheInputsOfARequestBody) {
  const std::string path = ::testing::TempDir() + "/bench_input.json";
  {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(R"({"inputs":[{"name":"a","datatype":"INT32","shape":[1,3],"data":[1,2,3]}]})",
               f);
    std::fclose(f);
  }
  auto inputs = LoadInputsFromFile(path);
  ASSERT_TRUE(inputs.ok()) << inputs.status().ToString();
  ASSERT_EQ(inputs->size(), 1u);
  EXPECT_EQ((*inputs)[0].As<int32_t>()[2], 3);
  EXPECT_FALSE(LoadInputsFromFile(path + ".missing").ok());
}

}  // namespace
}  // namespace inferd::bench
