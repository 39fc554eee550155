#include "http/jobs_http.h"

#include <gtest/gtest.h>

#include "http/router.h"

namespace inferd::http {
namespace {

TEST(PrefersRespondAsync, FindsThePreferenceAmongOthers) {
  EXPECT_TRUE(PrefersRespondAsync("respond-async"));
  EXPECT_TRUE(PrefersRespondAsync("Respond-Async"));
  EXPECT_TRUE(PrefersRespondAsync("return=minimal, respond-async; foo=bar"));
  EXPECT_TRUE(PrefersRespondAsync(" wait=10 ,respond-async"));
  EXPECT_FALSE(PrefersRespondAsync(""));
  EXPECT_FALSE(PrefersRespondAsync("return=representation"));
  EXPECT_FALSE(PrefersRespondAsync("respond-asynchronously"));
}

TEST(JobRoutes, MatchTheJobEndpoints) {
  auto list = MatchRoute("/v2/jobs?limit=5&page_token=9");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->endpoint, Endpoint::kJobList);
  auto job = MatchRoute("/v2/jobs/0123abcd");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->endpoint, Endpoint::kJob);
  EXPECT_EQ(job->job_id, "0123abcd");
  EXPECT_TRUE(job->also_delete);
  EXPECT_EQ(MatchRoute("/v2/jobs/a/b").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ApiCategoryOf(Endpoint::kJob), security::ApiCategory::kInference);
}

}  // namespace
}  // namespace inferd::http
