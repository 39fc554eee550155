// The tokenizer's config completion and checks (no model file needed); its ids are checked
// against the Python library in tests/integration/test_tokenizer.py.
#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "backends/sentencepiece/sentencepiece_backend.h"

namespace inferd::backends {
namespace {

using ::testing::HasSubstr;

config::ModelConfig Parse(const std::string& text) {
  config::ModelConfig c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c)) << text;
  return c;
}

Status Complete(config::ModelConfig& c) {
  auto backend = CreateSentencePieceBackend();
  EXPECT_TRUE(backend.ok());
  return (*backend)->CompleteConfig(c, {}, "tok");
}

std::string Param(const std::string& key, const std::string& value) {
  return "parameters { key: \"" + key + "\" value { string_value: \"" + value + "\" } }\n";
}

TEST(SentencePieceBackend, CompletesTextInIdsAndMaskOut) {
  auto c = Parse("name: \"tok\" backend: \"sentencepiece\"\n" + Param("max_length", "32"));
  ASSERT_TRUE(Complete(c).ok());
  EXPECT_EQ(c.platform(), "inferd_sentencepiece");
  ASSERT_EQ(c.input_size(), 1);
  EXPECT_EQ(c.input(0).name(), "TEXT");
  EXPECT_EQ(c.input(0).data_type(), config::TYPE_STRING);
  ASSERT_EQ(c.output_size(), 2);
  EXPECT_EQ(c.output(0).name(), "INPUT_IDS");
  EXPECT_EQ(c.output(1).name(), "ATTENTION_MASK");
  for (const auto& out : c.output()) {
    EXPECT_EQ(out.data_type(), config::TYPE_INT64);
    ASSERT_EQ(out.dims_size(), 1);
    EXPECT_EQ(out.dims(0), 32);
  }
}

TEST(SentencePieceBackend, PaddingToTheLongestHasAVariableLength) {
  auto c = Parse("name: \"tok\" backend: \"sentencepiece\" max_batch_size: 8\n" +
                 Param("padding", "longest"));
  ASSERT_TRUE(Complete(c).ok());
  EXPECT_EQ(c.output(0).dims(0), -1);
}

TEST(SentencePieceBackend, RefusesBadParametersAndTensors) {
  const std::pair<std::string, std::string> cases[] = {
      {Param("max_length", "0"), "parameters.max_length '0'"},
      {Param("max_length", "2") + Param("add_bos", "true") + Param("add_eos", "true"),
       "leaves no room"},
      {Param("padding", "right"), "parameters.padding 'right'"},
      {Param("add_eos", "yes"), "parameters.add_eos 'yes'"},
      {"output { name: \"TOKENS\" data_type: TYPE_INT64 dims: [ 128 ] }",
       "output 'TOKENS': a tokenizer's outputs are INPUT_IDS and ATTENTION_MASK"},
      {"output { name: \"INPUT_IDS\" data_type: TYPE_FP32 dims: [ 128 ] }",
       "must be TYPE_INT64 or TYPE_INT32"},
      {"output { name: \"INPUT_IDS\" data_type: TYPE_INT64 dims: [ 64 ] }",
       "has dims [64] but max_length and padding give [128]"},
      {"input { name: \"TEXT\" data_type: TYPE_FP32 dims: [ 1 ] }", "one TYPE_STRING input"},
  };
  for (const auto& [extra, message] : cases) {
    auto c = Parse("name: \"tok\" backend: \"sentencepiece\"\n" + extra);
    Status s = Complete(c);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << extra;
    EXPECT_THAT(s.message(), HasSubstr(message)) << extra;
  }
}

}  // namespace
}  // namespace inferd::backends
