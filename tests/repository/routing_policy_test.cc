#include "repository/routing_policy.h"

#include <gtest/gtest.h>

#include <map>

namespace inferd::repository {
namespace {

TEST(RoutingPolicy, ParsesAndPrintsEveryKind) {
  for (const char* text : {"latest", "pinned:3", "weighted:2=90,3=10"}) {
    auto p = ParseRoutingPolicy(text);
    ASSERT_TRUE(p.ok()) << text << ": " << p.status().ToString();
    EXPECT_EQ(RoutingPolicyToString(*p), text);
  }
}

TEST(RoutingPolicy, RejectsMalformedText) {
  for (const char* text : {"", "newest", "pinned:", "pinned:0", "pinned:x", "weighted:",
                           "weighted:2=0", "weighted:2", "weighted:2=5,2=5", "weighted:a=1"}) {
    auto p = ParseRoutingPolicy(text);
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(RoutingPolicy, LatestTakesTheHighestReadyVersion) {
  EXPECT_EQ(*ChooseVersion({}, {1, 2, 5}, 0), 5);
  EXPECT_EQ(ChooseVersion({}, {}, 0).status().code(), StatusCode::kUnavailable);
}

TEST(RoutingPolicy, PinnedNeedsItsVersionReady) {
  auto p = *ParseRoutingPolicy("pinned:2");
  EXPECT_EQ(*ChooseVersion(p, {1, 2, 3}, 7), 2);
  EXPECT_EQ(ChooseVersion(p, {1, 3}, 7).status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(CheckPolicyAgainst(p, {1, 3}).ok());
  EXPECT_TRUE(CheckPolicyAgainst(p, {2}).ok());
}

TEST(RoutingPolicy, WeightedSplitsByWeight) {
  auto p = *ParseRoutingPolicy("weighted:2=90,3=10");
  std::map<int64_t, int> counts;
  for (uint64_t draw = 0; draw < 1000; ++draw) ++counts[*ChooseVersion(p, {1, 2, 3}, draw)];
  EXPECT_EQ(counts[2], 900);
  EXPECT_EQ(counts[3], 100);
  EXPECT_EQ(counts[1], 0);
}

TEST(RoutingPolicy, WeightedSkipsVersionsThatAreNotReady) {
  auto p = *ParseRoutingPolicy("weighted:2=90,3=10");
  for (uint64_t draw = 0; draw < 100; ++draw) EXPECT_EQ(*ChooseVersion(p, {3}, draw), 3);
}

TEST(RoutingPolicy, RollbackPinsThePreviousVersion) {
  EXPECT_EQ(RoutingPolicyToString(*RollbackPolicy({}, {1, 2, 3})), "pinned:2");
  EXPECT_EQ(RoutingPolicyToString(*RollbackPolicy(*ParseRoutingPolicy("pinned:2"), {1, 2, 3})),
            "pinned:1");
  EXPECT_EQ(
      RoutingPolicyToString(*RollbackPolicy(*ParseRoutingPolicy("weighted:2=90,3=10"), {1, 2, 3})),
      "pinned:2");
  EXPECT_EQ(RollbackPolicy({}, {3}).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace inferd::repository
