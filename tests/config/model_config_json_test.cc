#include "config/model_config_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/model_config_parser.h"

namespace inferd::config {
namespace {

nlohmann::json ToJson(const char* text) {
  auto config = ParseModelConfig(text, "test");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return nlohmann::json::parse(ModelConfigToJson(config.ok() ? *config : ModelConfig()));
}

TEST(ModelConfigJson, UsesProtoFieldNamesAndEnumNames) {
  auto json = ToJson(R"(name: "m" max_batch_size: 8
      input { name: "x" data_type: TYPE_FP32 dims: [ -1, 3 ] }
      output { name: "y" data_type: TYPE_STRING dims: [ 1 ] }
      instance_group { count: 2 kind: KIND_CPU })");
  EXPECT_EQ(json["name"], "m");
  EXPECT_EQ(json["max_batch_size"], 8);
  EXPECT_EQ(json["input"][0]["data_type"], "TYPE_FP32");
  EXPECT_EQ(json["input"][0]["format"], "FORMAT_NONE");
  EXPECT_EQ(json["output"][0]["data_type"], "TYPE_STRING");
  EXPECT_EQ(json["instance_group"][0]["kind"], "KIND_CPU");
  EXPECT_EQ(json["instance_group"][0]["count"], 2);
}

TEST(ModelConfigJson, WritesDimsAsNumbers) {
  auto json = ToJson(R"(input { name: "x" data_type: TYPE_FP32 dims: [ -1, 3 ]
                                reshape { shape: [ 3 ] } })");
  EXPECT_EQ(json["input"][0]["dims"], nlohmann::json::parse("[-1, 3]"));
  EXPECT_EQ(json["input"][0]["reshape"]["shape"], nlohmann::json::parse("[3]"));
}

TEST(ModelConfigJson, WritesOtherSixtyFourBitFieldsAsNumbers) {
  auto json = ToJson(R"(max_batch_size: 4
      version_policy { specific { versions: [ 1, 3 ] } }
      dynamic_batching { max_queue_delay_microseconds: 250 priority_levels: 2
                         default_priority_level: 1
                         priority_queue_policy { key: 2
                           value { default_timeout_microseconds: 18446744073709551615 } } })");
  EXPECT_EQ(json["version_policy"]["specific"]["versions"], nlohmann::json::parse("[1, 3]"));
  const auto& batching = json["dynamic_batching"];
  EXPECT_EQ(batching["max_queue_delay_microseconds"], 250);
  EXPECT_EQ(batching["priority_levels"], 2);
  // Map keys stay strings; the values inside are fixed too.
  EXPECT_EQ(batching["priority_queue_policy"]["2"]["default_timeout_microseconds"],
            18446744073709551615ull);
}

TEST(ModelConfigJson, PrintsFieldsAtTheirDefaults) {
  auto json = ToJson(R"(name: "m")");
  ASSERT_TRUE(json.contains("max_batch_size"));
  EXPECT_EQ(json["max_batch_size"], 0);
  EXPECT_EQ(json["platform"], "");
  EXPECT_EQ(json["input"], nlohmann::json::array());
  EXPECT_EQ(json["parameters"], nlohmann::json::object());
}

TEST(ModelConfigJson, WritesParametersAndWarmup) {
  auto json = ToJson(R"(parameters { key: "threads" value { string_value: "2" } }
      model_warmup { name: "w" batch_size: 1
        inputs { key: "x" value { data_type: TYPE_FP32 dims: [ 3 ] zero_data: true } } })");
  EXPECT_EQ(json["parameters"]["threads"]["string_value"], "2");
  EXPECT_EQ(json["model_warmup"][0]["inputs"]["x"]["dims"], nlohmann::json::parse("[3]"));
  EXPECT_EQ(json["model_warmup"][0]["inputs"]["x"]["zero_data"], true);
}

TEST(ModelConfigJson, KeepsTheProtoFieldOrder) {
  std::string text = ModelConfigToJson(ModelConfig());
  EXPECT_LT(text.find("\"name\""), text.find("\"platform\""));
  EXPECT_LT(text.find("\"platform\""), text.find("\"max_batch_size\""));
}

}  // namespace
}  // namespace inferd::config
