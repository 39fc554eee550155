#include "observability/trace_context.h"

#include <gtest/gtest.h>

namespace inferd::observability {
namespace {

constexpr const char* kExample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceParent, ParsesTheSpecExample) {
  auto tp = ParseTraceParent(kExample);
  ASSERT_TRUE(tp.has_value());
  EXPECT_EQ(ToHex(tp->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(ToHex(tp->parent_id), "00f067aa0ba902b7");
  EXPECT_TRUE(tp->sampled);
  EXPECT_FALSE(ParseTraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")->sampled);
}

TEST(TraceParent, RoundTrips) {
  auto tp = ParseTraceParent(kExample);
  EXPECT_EQ(FormatTraceParent(tp->trace_id, tp->parent_id, true), kExample);
}

TEST(TraceParent, RejectsMalformedHeaders) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",         // no flags
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",      // uppercase
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",      // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",      // zero span id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",      // invalid version
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // v00 is exact
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
       }) {
    EXPECT_FALSE(ParseTraceParent(bad).has_value()) << bad;
  }
}

TEST(TraceParent, AcceptsFutureVersionsWithMoreFields) {
  EXPECT_TRUE(
      ParseTraceParent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-abc").has_value());
}

TEST(TraceIds, AreRandomAndNonZero) {
  EXPECT_NE(NewTraceId(), NewTraceId());
  EXPECT_NE(NewSpanId(), NewSpanId());
  EXPECT_NE(ToHex(NewSpanId()), "0000000000000000");
}

}  // namespace
}  // namespace inferd::observability
