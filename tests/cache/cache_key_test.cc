#include "cache/cache_key.h"

#include <gtest/gtest.h>

#include "test_requests.h"

namespace inferd::cache {
namespace {

using testing::Fp32Tensor;
using testing::Request;

const std::vector<float> kFour = {1, 2, 3, 4};

TEST(CacheKey, SameRequestSameKey) {
  EXPECT_EQ(ComputeCacheKey(Request({1, 4}, kFour), 1), ComputeCacheKey(Request({1, 4}, kFour), 1));
}

TEST(CacheKey, SameBytesDifferentShapeDiffer) {
  EXPECT_NE(ComputeCacheKey(Request({1, 4}, kFour), 1).digest,
            ComputeCacheKey(Request({2, 2}, kFour), 1).digest);
}

TEST(CacheKey, SameBytesDifferentDatatypeDiffer) {
  InferenceRequest a = Request({1, 4}, kFour);
  InferenceRequest b = a;
  b.inputs[0].set_dtype(DataType::kInt32);  // the same 16 bytes read as INT32
  EXPECT_NE(ComputeCacheKey(a, 1).digest, ComputeCacheKey(b, 1).digest);
}

TEST(CacheKey, DifferentBytesDiffer) {
  EXPECT_NE(ComputeCacheKey(Request({1, 4}, kFour), 1).digest,
            ComputeCacheKey(Request({1, 4}, {1, 2, 3, 5}), 1).digest);
}

TEST(CacheKey, ModelAndVersionAreInTheKey) {
  InferenceRequest a = Request({1, 4}, kFour);
  InferenceRequest b = a;
  b.model_name = "n";
  EXPECT_NE(ComputeCacheKey(a, 1).digest, ComputeCacheKey(b, 1).digest);
  EXPECT_NE(ComputeCacheKey(a, 1).digest, ComputeCacheKey(a, 2).digest);
}

TEST(CacheKey, InputNameIsInTheKeyButInputOrderIsNot) {
  InferenceRequest a;
  a.model_name = "m";
  a.inputs.push_back(Fp32Tensor("A", {1, 1}, {1}));
  a.inputs.push_back(Fp32Tensor("B", {1, 1}, {2}));
  InferenceRequest swapped = a;
  std::swap(swapped.inputs[0], swapped.inputs[1]);
  EXPECT_EQ(ComputeCacheKey(a, 1), ComputeCacheKey(swapped, 1));
  InferenceRequest renamed = a;
  renamed.inputs[0].set_name("C");
  EXPECT_NE(ComputeCacheKey(a, 1).digest, ComputeCacheKey(renamed, 1).digest);
}

TEST(CacheKey, RequestedOutputsAndTheirFormAreInTheKey) {
  InferenceRequest plain = Request({1, 4}, kFour);
  InferenceRequest one_output = plain;
  one_output.outputs.push_back({"OUTPUT0", {}});
  InferenceRequest binary_output = one_output;
  binary_output.outputs[0].parameters["binary_data"] = true;
  InferenceRequest json_output = one_output;
  json_output.outputs[0].parameters["binary_data"] = false;
  EXPECT_NE(ComputeCacheKey(plain, 1).digest, ComputeCacheKey(one_output, 1).digest);
  EXPECT_NE(ComputeCacheKey(one_output, 1).digest, ComputeCacheKey(binary_output, 1).digest);
  EXPECT_NE(ComputeCacheKey(binary_output, 1).digest, ComputeCacheKey(json_output, 1).digest);
  // The decoders keep a bool binary_data in its own field: in the key too.
  InferenceRequest binary_field = one_output;
  binary_field.outputs[0].binary_data = true;
  InferenceRequest json_field = one_output;
  json_field.outputs[0].binary_data = false;
  EXPECT_NE(ComputeCacheKey(one_output, 1).digest, ComputeCacheKey(binary_field, 1).digest);
  EXPECT_NE(ComputeCacheKey(binary_field, 1).digest, ComputeCacheKey(json_field, 1).digest);
}

TEST(CacheKey, ResultChangingParametersAreInTheKeySchedulingHintsAreNot) {
  InferenceRequest a = Request({1, 4}, kFour);
  InferenceRequest binary = a;
  binary.parameters["binary_data_output"] = true;
  EXPECT_NE(ComputeCacheKey(a, 1).digest, ComputeCacheKey(binary, 1).digest);
  InferenceRequest hinted = a;
  hinted.parameters["priority"] = int64_t{2};
  hinted.parameters["timeout"] = int64_t{1000};
  EXPECT_EQ(ComputeCacheKey(a, 1), ComputeCacheKey(hinted, 1));
  InferenceRequest other = a;
  other.parameters["custom"] = std::string("x");
  EXPECT_NE(ComputeCacheKey(a, 1).digest, ComputeCacheKey(other, 1).digest);
}

TEST(CacheKey, RequestIdIsNotInTheKey) {
  InferenceRequest a = Request({1, 4}, kFour);
  InferenceRequest b = a;
  b.id = "another";
  EXPECT_EQ(ComputeCacheKey(a, 1), ComputeCacheKey(b, 1));
}

TEST(Hash128, TailBytesAndLengthChangeTheDigest) {
  std::vector<std::byte> bytes(37, std::byte{7});
  const Digest128 base = Hash128(bytes);
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto changed = bytes;
    changed[i] = std::byte{8};
    EXPECT_NE(Hash128(changed), base) << "byte " << i;
  }
  bytes.push_back(std::byte{0});
  EXPECT_NE(Hash128(bytes), base);
}

}  // namespace
}  // namespace inferd::cache
