#include "security/authorizer.h"

#include <map>

#include <gtest/gtest.h>

namespace inferd::security {
namespace {

// Headers of a fake request, by lower-case name.
HeaderLookup Headers(std::map<std::string, std::string> headers) {
  return [headers = std::move(headers)](std::string_view name) -> std::optional<std::string_view> {
    auto it = headers.find(std::string(name));
    if (it == headers.end()) return std::nullopt;
    return std::string_view(it->second);
  };
}

Authorizer WithTokens(bool open_health = true) {
  Authorizer::Options options;
  options.tokens = TokenTable::Parse("infer-tok infer\nadmin-tok admin\n").value();
  options.open_health = open_health;
  return Authorizer::Create(std::move(options)).value();
}

TEST(Authorizer, AllowsEverythingByDefault) {
  Authorizer auth;
  EXPECT_FALSE(auth.enabled());
  EXPECT_TRUE(auth.Check(ApiCategory::kModelRepository, Headers({})).allowed());
  EXPECT_TRUE(auth.Check(ApiCategory::kInference, Headers({})).allowed());
}

TEST(Authorizer, MissingTokenIsUnauthenticated) {
  auto d = WithTokens().Check(ApiCategory::kInference, Headers({}));
  EXPECT_EQ(d.outcome, AuthOutcome::kUnauthenticated);
}

TEST(Authorizer, UnknownTokenIsUnauthenticatedAndNotEchoed) {
  auto d = WithTokens().Check(ApiCategory::kInference,
                              Headers({{"authorization", "Bearer guessed-token"}}));
  EXPECT_EQ(d.outcome, AuthOutcome::kUnauthenticated);
  EXPECT_EQ(d.message.find("guessed-token"), std::string::npos);
}

TEST(Authorizer, OtherSchemesAreUnauthenticated) {
  auto d = WithTokens().Check(ApiCategory::kInference,
                              Headers({{"authorization", "Basic aW5mZXItdG9r"}}));
  EXPECT_EQ(d.outcome, AuthOutcome::kUnauthenticated);
  d = WithTokens().Check(ApiCategory::kInference, Headers({{"authorization", "Bearer "}}));
  EXPECT_EQ(d.outcome, AuthOutcome::kUnauthenticated);
}

TEST(Authorizer, SchemeIsCaseInsensitive) {
  auto d = WithTokens().Check(ApiCategory::kInference,
                              Headers({{"authorization", "bearer infer-tok"}}));
  EXPECT_TRUE(d.allowed()) << d.message;
}

TEST(Authorizer, InferTokenCoversInferenceMetadataConfigStatisticsMetrics) {
  auto auth = WithTokens();
  auto h = Headers({{"authorization", "Bearer infer-tok"}});
  for (ApiCategory api : {ApiCategory::kInference, ApiCategory::kMetadata,
                          ApiCategory::kModelConfig, ApiCategory::kStatistics,
                          ApiCategory::kMetrics}) {
    EXPECT_TRUE(auth.Check(api, h).allowed()) << ApiCategoryName(api);
  }
}

TEST(Authorizer, InferTokenOnAdminApisIsPermissionDenied) {
  auto auth = WithTokens();
  auto h = Headers({{"authorization", "Bearer infer-tok"}});
  for (ApiCategory api :
       {ApiCategory::kModelRepository, ApiCategory::kLogging, ApiCategory::kTrace}) {
    auto d = auth.Check(api, h);
    EXPECT_EQ(d.outcome, AuthOutcome::kPermissionDenied) << ApiCategoryName(api);
    EXPECT_EQ(d.message.find("infer-tok"), std::string::npos);
  }
}

TEST(Authorizer, AdminTokenCoversEverything) {
  auto auth = WithTokens();
  auto h = Headers({{"authorization", "Bearer admin-tok"}});
  for (ApiCategory api : {ApiCategory::kInference, ApiCategory::kModelRepository,
                          ApiCategory::kLogging, ApiCategory::kStatistics}) {
    EXPECT_TRUE(auth.Check(api, h).allowed()) << ApiCategoryName(api);
  }
}

TEST(Authorizer, HealthIsOpenUnlessConfigured) {
  EXPECT_TRUE(WithTokens().Check(ApiCategory::kHealth, Headers({})).allowed());
  auto closed = WithTokens(/*open_health=*/false);
  EXPECT_EQ(closed.Check(ApiCategory::kHealth, Headers({})).outcome,
            AuthOutcome::kUnauthenticated);
  EXPECT_TRUE(closed.Check(ApiCategory::kHealth, Headers({{"authorization", "Bearer infer-tok"}}))
                  .allowed());
}

TEST(ParseRestrictedApi, ReadsTritonsForm) {
  auto r = ParseRestrictedApi("model-repository,logging:Admin-Key=s3cret=x");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->apis.size(), 2u);
  EXPECT_EQ(r->apis[0], ApiCategory::kModelRepository);
  EXPECT_EQ(r->apis[1], ApiCategory::kLogging);
  EXPECT_EQ(r->header, "admin-key");
  EXPECT_EQ(r->value, "s3cret=x");
}

TEST(ParseRestrictedApi, RejectsMalformedSpecsWithoutEchoingTheValue) {
  EXPECT_FALSE(ParseRestrictedApi("model-repository").ok());
  EXPECT_FALSE(ParseRestrictedApi("model-repository:novalue").ok());
  EXPECT_FALSE(ParseRestrictedApi("nonsense:k=v").ok());
  EXPECT_FALSE(ParseRestrictedApi(",inference:k=v").ok());
  EXPECT_FALSE(ParseRestrictedApi("inference:=v").ok());
  auto bad = ParseRestrictedApi("inference:bad header=topsecret");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("topsecret"), std::string::npos);
}

TEST(Authorizer, RestrictedApiNeedsItsHeader) {
  Authorizer::Options options;
  options.restricted.push_back(ParseRestrictedApi("model-repository:admin-key=v1").value());
  auto auth = Authorizer::Create(std::move(options)).value();
  EXPECT_TRUE(auth.enabled());
  EXPECT_TRUE(auth.Check(ApiCategory::kInference, Headers({})).allowed());
  EXPECT_EQ(auth.Check(ApiCategory::kModelRepository, Headers({})).outcome,
            AuthOutcome::kPermissionDenied);
  EXPECT_EQ(auth.Check(ApiCategory::kModelRepository, Headers({{"admin-key", "v2"}})).outcome,
            AuthOutcome::kPermissionDenied);
  EXPECT_TRUE(
      auth.Check(ApiCategory::kModelRepository, Headers({{"admin-key", "v1"}})).allowed());
}

TEST(Authorizer, RejectsAnApiRestrictedTwice) {
  Authorizer::Options options;
  options.restricted.push_back(ParseRestrictedApi("inference:a=1").value());
  options.restricted.push_back(ParseRestrictedApi("metadata,inference:b=2").value());
  EXPECT_FALSE(Authorizer::Create(std::move(options)).ok());
}

TEST(Authorizer, RestrictionsAndTokensBothApply) {
  Authorizer::Options options;
  options.tokens = TokenTable::Parse("admin-tok admin\n").value();
  options.restricted.push_back(ParseRestrictedApi("model-repository:k=v").value());
  auto auth = Authorizer::Create(std::move(options)).value();
  EXPECT_FALSE(auth.Check(ApiCategory::kModelRepository,
                          Headers({{"authorization", "Bearer admin-tok"}}))
                   .allowed());
  EXPECT_TRUE(auth.Check(ApiCategory::kModelRepository,
                         Headers({{"authorization", "Bearer admin-tok"}, {"k", "v"}}))
                  .allowed());
}

}  // namespace
}  // namespace inferd::security
