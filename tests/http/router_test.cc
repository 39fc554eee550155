#include "http/router.h"

#include <gtest/gtest.h>

namespace inferd::http {
namespace {

TEST(Router, MatchesHealthAndServerMetadata) {
  EXPECT_EQ(MatchRoute("/v2/health/live")->endpoint, Endpoint::kHealthLive);
  EXPECT_EQ(MatchRoute("/v2/health/ready")->endpoint, Endpoint::kHealthReady);
  EXPECT_EQ(MatchRoute("/v2")->endpoint, Endpoint::kServerMetadata);
  EXPECT_EQ(MatchRoute("/v2/")->endpoint, Endpoint::kServerMetadata);
}

TEST(Router, MatchesModelEndpointsWithAndWithoutVersion) {
  auto r = MatchRoute("/v2/models/mlp/infer");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->endpoint, Endpoint::kModelInfer);
  EXPECT_EQ(r->model, "mlp");
  EXPECT_EQ(r->version, 0);
  EXPECT_EQ(r->method, Method::kPost);

  r = MatchRoute("/v2/models/mlp/versions/3/ready");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->endpoint, Endpoint::kModelReady);
  EXPECT_EQ(r->version, 3);
  EXPECT_EQ(r->method, Method::kGet);

  EXPECT_EQ(MatchRoute("/v2/models/mlp")->endpoint, Endpoint::kModelMetadata);
  EXPECT_EQ(MatchRoute("/v2/models/mlp/versions/2")->endpoint, Endpoint::kModelMetadata);
  EXPECT_EQ(MatchRoute("/v2/models/mlp/config")->endpoint, Endpoint::kModelConfig);
  EXPECT_EQ(MatchRoute("/v2/repository/index")->endpoint, Endpoint::kRepositoryIndex);
}

TEST(Router, MatchesRepositoryControlAndStatistics) {
  auto r = MatchRoute("/v2/repository/models/mlp/load");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->endpoint, Endpoint::kRepositoryLoad);
  EXPECT_EQ(r->model, "mlp");
  EXPECT_EQ(r->method, Method::kPost);
  EXPECT_EQ(MatchRoute("/v2/repository/models/mlp/unload")->endpoint,
            Endpoint::kRepositoryUnload);
  EXPECT_EQ(MatchRoute("/v2/repository/models/..%2F/load").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MatchRoute("/v2/repository/models/mlp/reload").status().code(),
            StatusCode::kNotFound);

  r = MatchRoute("/v2/models/stats");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->endpoint, Endpoint::kModelStatistics);
  EXPECT_EQ(r->model, "");
  r = MatchRoute("/v2/models/mlp/versions/2/stats");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->endpoint, Endpoint::kModelStatistics);
  EXPECT_EQ(r->version, 2);
}

TEST(Router, MatchesTraceSettingsGlobalAndPerModel) {
  auto r = MatchRoute("/v2/trace/setting");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->endpoint, Endpoint::kTraceSetting);
  EXPECT_TRUE(r->model.empty());
  EXPECT_TRUE(r->also_post);
  r = MatchRoute("/v2/models/m%2Dx/trace/setting");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->endpoint, Endpoint::kTraceSetting);
  EXPECT_EQ(r->model, "m-x");
  EXPECT_EQ(ApiCategoryOf(Endpoint::kTraceSetting), security::ApiCategory::kTrace);
  EXPECT_FALSE(MatchRoute("/v2/models/m/versions/1/trace/setting").ok());
}

TEST(Router, MatchesSystemSharedMemory) {
  auto r = MatchRoute("/v2/systemsharedmemory/status");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->endpoint, Endpoint::kShmStatus);
  EXPECT_TRUE(r->region.empty());
  r = MatchRoute("/v2/systemsharedmemory/region/in%20put/register");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->endpoint, Endpoint::kShmRegister);
  EXPECT_EQ(r->region, "in put");
  EXPECT_EQ(r->method, Method::kPost);
  EXPECT_EQ(MatchRoute("/v2/systemsharedmemory/region/r/unregister")->endpoint,
            Endpoint::kShmUnregister);
  EXPECT_EQ(MatchRoute("/v2/systemsharedmemory/unregister")->endpoint, Endpoint::kShmUnregister);
  EXPECT_EQ(MatchRoute("/v2/systemsharedmemory/region/r/status")->endpoint,
            Endpoint::kShmStatus);
  EXPECT_FALSE(MatchRoute("/v2/systemsharedmemory/register").ok());  // needs a region name
  EXPECT_EQ(ApiCategoryOf(Endpoint::kShmRegister), security::ApiCategory::kSharedMemory);
}

TEST(Router, IgnoresTheQueryString) {
  auto r = MatchRoute("/v2/models/mlp/infer?trace=1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->model, "mlp");
}

TEST(Router, MatchesTheOpenApiDocumentAndTheConsoleFiles) {
  auto r = MatchRoute("/v2/openapi.json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->endpoint, Endpoint::kOpenApi);
  EXPECT_EQ(r->method, Method::kGet);
  EXPECT_EQ(ApiCategoryOf(Endpoint::kOpenApi), security::ApiCategory::kMetadata);

  for (const char* target : {"/console", "/console/", "/console?token=x"}) {
    r = MatchRoute(target);
    ASSERT_TRUE(r.ok()) << target;
    EXPECT_EQ(r->endpoint, Endpoint::kConsole) << target;
    EXPECT_EQ(r->file, "index.html") << target;
  }
  r = MatchRoute("/console/console.js");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->file, "console.js");
  // Its files hold no data: a browser fetches them without a token.
  EXPECT_EQ(ApiCategoryOf(Endpoint::kConsole), security::ApiCategory::kHealth);
  EXPECT_EQ(MatchRoute("/console/a/b").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(MatchRoute("/v2/openapi.yaml").status().code(), StatusCode::kNotFound);
}

TEST(Router, UnknownPathsAreNotFound) {
  for (const char* target : {"/", "/v1/models/m", "/v2/health", "/v2/health/dead",
                             "/v2/models", "/v2/models/m/versions", "/v2/models/m/explain",
                             "/v2/models/m/infer/extra", "/v2/models/m/versions/1/infer/x"}) {
    auto r = MatchRoute(target);
    ASSERT_FALSE(r.ok()) << target;
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << target;
  }
}

TEST(Router, RejectsBadVersionsAndModelNames) {
  for (const char* target : {"/v2/models/m/versions/0/infer", "/v2/models/m/versions/-1",
                             "/v2/models/m/versions/abc/ready", "/v2/models/m/versions/1x",
                             "/v2/models/%2e%2e/infer", "/v2/models/a%2Fb/config",
                             "/v2/models/bad%zz/ready"}) {
    auto r = MatchRoute(target);
    ASSERT_FALSE(r.ok()) << target;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << target;
  }
}

TEST(Router, PercentDecodesModelNames) {
  auto r = MatchRoute("/v2/models/my%20model/ready");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->model, "my model");
  EXPECT_FALSE(PercentDecode("%4").ok());
  EXPECT_FALSE(PercentDecode("%").ok());
  EXPECT_EQ(*PercentDecode("%41b"), "Ab");
}

}  // namespace
}  // namespace inferd::http

namespace inferd::http {
namespace {

TEST(Router, PathsLongerThanAnyEndpointAreNotFound) {
  // The longest endpoint has six segments; longer paths must not match a prefix of one.
  auto six = MatchRoute("/v2/models/m/versions/2/infer");
  ASSERT_TRUE(six.ok());
  EXPECT_EQ(six->endpoint, Endpoint::kModelInfer);
  for (const char* target : {"/v2/models/m/versions/2/infer/x", "/v2/models/m/versions/2/infer/x/y/z",
                             "/v2/models/m/infer/a/b/c/d/e/f"}) {
    auto r = MatchRoute(target);
    EXPECT_FALSE(r.ok()) << target;
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << target;
  }
}

TEST(Router, RepeatedSlashesAreIgnored) {
  auto r = MatchRoute("//v2//models//m///infer");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->endpoint, Endpoint::kModelInfer);
  EXPECT_EQ(r->model, "m");
}

}  // namespace
}  // namespace inferd::http
