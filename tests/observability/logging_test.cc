#include "observability/logging.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace inferd::observability {
namespace {

TEST(AccessRecordJson, CarriesTheRequestFields) {
  AccessRecord r;
  r.method = "POST";
  r.path = "/v2/models/m/infer";
  r.status = 200;
  r.bytes_in = 10;
  r.bytes_out = 20;
  r.duration_us = 30;
  r.model = "m";
  r.version = 2;
  r.cache = "miss";
  r.queue_us = 4;
  r.compute_us = 5;
  const auto j = nlohmann::json::parse(AccessRecordJson(r));
  EXPECT_EQ(j.at("type"), "access");
  EXPECT_EQ(j.at("status"), 200);
  EXPECT_EQ(j.at("bytes_out"), 20);
  EXPECT_EQ(j.at("model"), "m");
  EXPECT_EQ(j.at("version"), 2);
  EXPECT_EQ(j.at("cache"), "miss");
  EXPECT_EQ(j.at("queue_us"), 4);
  EXPECT_FALSE(j.contains("decode_us"));  // -1: not applicable
  EXPECT_FALSE(j.contains("trace_id"));
}

TEST(AccessRecordJson, EscapesStrings) {
  AccessRecord r;
  r.path = "/a\"b\\c\n";
  const auto j = nlohmann::json::parse(AccessRecordJson(r));
  EXPECT_EQ(j.at("path"), "/a\"b\\c\n");
}

TEST(Logging, SettingsApplyAndUnknownLevelsAreRejected) {
  LogSettings s;
  s.level = "debug";
  s.format = LogFormat::kJson;
  s.access_log = true;
  ASSERT_TRUE(ConfigureLogging(s).ok());
  EXPECT_EQ(CurrentLogSettings().level, "debug");
  EXPECT_TRUE(AccessLogEnabled());
  s.level = "loud";
  EXPECT_FALSE(UpdateLogSettings(s).ok());
  EXPECT_EQ(CurrentLogSettings().level, "debug");
  s.level = "info";
  s.access_log = false;
  ASSERT_TRUE(UpdateLogSettings(s).ok());
  EXPECT_FALSE(AccessLogEnabled());
}

TEST(LogFormat, ParsesTextAndJson) {
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_FALSE(ParseLogFormat("xml").ok());
  EXPECT_EQ(LogFormatName(LogFormat::kJson), "json");
}

}  // namespace
}  // namespace inferd::observability
