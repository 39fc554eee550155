#include "config/version_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace inferd::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(VersionPolicy, DefaultServesOnlyTheHighestVersion) {
  EXPECT_THAT(SelectVersions(ModelVersionPolicy(), {3, 10, 1, 2}), ElementsAre(10));
}

TEST(VersionPolicy, LatestServesTheHighestNVersionsInAscendingOrder) {
  ModelVersionPolicy policy;
  policy.mutable_latest()->set_num_versions(2);
  EXPECT_THAT(SelectVersions(policy, {3, 10, 1, 2}), ElementsAre(3, 10));
}

TEST(VersionPolicy, LatestWithMoreVersionsThanAvailableServesAll) {
  ModelVersionPolicy policy;
  policy.mutable_latest()->set_num_versions(5);
  EXPECT_THAT(SelectVersions(policy, {2, 1}), ElementsAre(1, 2));
}

TEST(VersionPolicy, LatestWithoutACountServesOne) {
  ModelVersionPolicy policy;
  policy.mutable_latest();
  EXPECT_THAT(SelectVersions(policy, {1, 2}), ElementsAre(2));
}

TEST(VersionPolicy, AllServesEveryVersionOnce) {
  ModelVersionPolicy policy;
  policy.mutable_all();
  EXPECT_THAT(SelectVersions(policy, {3, 1, 3, 2}), ElementsAre(1, 2, 3));
}

TEST(VersionPolicy, SpecificServesOnlyListedVersionsThatExist) {
  ModelVersionPolicy policy;
  policy.mutable_specific()->add_versions(4);
  policy.mutable_specific()->add_versions(1);
  policy.mutable_specific()->add_versions(9);
  EXPECT_THAT(SelectVersions(policy, {1, 2, 3, 4}), ElementsAre(1, 4));
}

TEST(VersionPolicy, NothingAvailableServesNothing) {
  EXPECT_THAT(SelectVersions(ModelVersionPolicy(), {}), IsEmpty());
  ModelVersionPolicy all;
  all.mutable_all();
  EXPECT_THAT(SelectVersions(all, {}), IsEmpty());
}

}  // namespace
}  // namespace inferd::config
