#include "handler/trace_settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace inferd::handler {
namespace {

using ::testing::HasSubstr;
using Values = TraceSettings::Values;

std::unique_ptr<observability::Tracer> MakeTracer(double rate) {
  observability::Tracer::Options o;
  o.sample_rate = rate;
  o.file = ::testing::TempDir() + "/inferd-trace-settings-test.jsonl";
  auto t = observability::Tracer::Create(o);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

TEST(TraceSettings, StartsFromTheTracersRateAsOneInN) {
  auto tracer = MakeTracer(0.25);
  TraceSettings settings(tracer.get());
  const Values v = settings.Get("");
  EXPECT_EQ(v.at("trace_level"), std::vector<std::string>{"TIMESTAMPS"});
  EXPECT_EQ(v.at("trace_rate"), std::vector<std::string>{"4"});
  EXPECT_EQ(v.at("trace_count"), std::vector<std::string>{"-1"});
}

TEST(TraceSettings, AModelOverrideTurnsTracingOffForThatModelOnly) {
  auto tracer = MakeTracer(1.0);
  TraceSettings settings(tracer.get());
  ASSERT_TRUE(settings.Set("m", {{"trace_level", std::vector<std::string>{"OFF"}}}).ok());
  EXPECT_FALSE(settings.ShouldTrace("m", std::nullopt));
  EXPECT_TRUE(settings.ShouldTrace("other", std::nullopt));
  ASSERT_TRUE(settings.Set("m", {{"trace_level", std::nullopt}}).ok());
  EXPECT_TRUE(settings.ShouldTrace("m", std::nullopt));
}

TEST(TraceSettings, CountsDownTraceCount) {
  auto tracer = MakeTracer(1.0);
  TraceSettings settings(tracer.get());
  ASSERT_TRUE(settings.Set("", {{"trace_count", std::vector<std::string>{"2"}}}).ok());
  EXPECT_TRUE(settings.ShouldTrace("m", std::nullopt));
  EXPECT_TRUE(settings.ShouldTrace("m", std::nullopt));
  EXPECT_FALSE(settings.ShouldTrace("m", std::nullopt));
  EXPECT_EQ(settings.Get("").at("trace_count"), std::vector<std::string>{"0"});
}

TEST(TraceSettings, RefusesBadValuesNamingTheSettingAndChangesNothing) {
  auto tracer = MakeTracer(1.0);
  TraceSettings settings(tracer.get());
  auto bad = settings.Set("", {{"trace_rate", std::vector<std::string>{"2"}},
                               {"trace_level", std::vector<std::string>{"LOUD"}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("trace_level"));
  EXPECT_EQ(settings.Get("").at("trace_rate"), std::vector<std::string>{"1"});
}

TEST(TraceSettings, CannotTurnTracingOnWithoutADestination) {
  TraceSettings settings(nullptr);
  EXPECT_EQ(settings.Get("").at("trace_level"), std::vector<std::string>{"OFF"});
  auto on = settings.Set("", {{"trace_level", std::vector<std::string>{"TIMESTAMPS"}}});
  EXPECT_THAT(on.status().message(), HasSubstr("no trace destination"));
}

}  // namespace
}  // namespace inferd::handler
