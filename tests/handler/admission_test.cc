// Admission: credentials first, then the per-client rate limit, as both transports apply it.
#include "handler/admission.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace inferd::handler {
namespace {

using security::ApiCategory;
using Kind = Rejection::Kind;

security::HeaderLookup Headers(std::map<std::string, std::string> headers) {
  return [headers = std::move(headers)](std::string_view name) -> std::optional<std::string_view> {
    auto it = headers.find(std::string(name));
    if (it == headers.end()) return std::nullopt;
    return std::string_view(it->second);
  };
}

security::Authorizer TokenAuthorizer() {
  security::Authorizer::Options options;
  options.tokens = security::TokenTable::Parse("infer-tok infer\nadmin-tok admin\n").value();
  return security::Authorizer::Create(std::move(options)).value();
}

TEST(Admission, AdmitsEverythingWithoutChecks) {
  Admission admission(nullptr, nullptr);
  EXPECT_FALSE(admission.enabled());
  EXPECT_FALSE(admission.Admit(ApiCategory::kInference, Headers({}), "127.0.0.1"));
}

TEST(Admission, MissingTokenIsUnauthenticated) {
  auto auth = TokenAuthorizer();
  Admission admission(&auth, nullptr);
  auto rejection = admission.Admit(ApiCategory::kInference, Headers({}), "127.0.0.1");
  ASSERT_TRUE(rejection);
  EXPECT_EQ(rejection->kind, Kind::kUnauthenticated);
}

TEST(Admission, InferTokenOnTheRepositoryApiIsPermissionDenied) {
  auto auth = TokenAuthorizer();
  Admission admission(&auth, nullptr);
  auto rejection = admission.Admit(ApiCategory::kModelRepository,
                                   Headers({{"authorization", "Bearer infer-tok"}}), "127.0.0.1");
  ASSERT_TRUE(rejection);
  EXPECT_EQ(rejection->kind, Kind::kPermissionDenied);
  EXPECT_EQ(rejection->message.find("infer-tok"), std::string::npos);
}

TEST(Admission, RateLimitCountsPerPeerAndAnswersRetryAfter) {
  security::RateLimiter limiter({.requests_per_second = 1, .burst = 1});
  Admission admission(nullptr, &limiter);
  EXPECT_TRUE(admission.enabled());
  EXPECT_FALSE(admission.Admit(ApiCategory::kInference, Headers({}), "10.0.0.1"));
  auto rejection = admission.Admit(ApiCategory::kInference, Headers({}), "10.0.0.1");
  ASSERT_TRUE(rejection);
  EXPECT_EQ(rejection->kind, Kind::kRateLimited);
  EXPECT_GE(rejection->retry_after_s, 1);
  // Another peer has its own bucket.
  EXPECT_FALSE(admission.Admit(ApiCategory::kInference, Headers({}), "10.0.0.2"));
}

TEST(Admission, HealthIsNeverRateLimited) {
  security::RateLimiter limiter({.requests_per_second = 1, .burst = 1});
  Admission admission(nullptr, &limiter);
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(admission.Admit(ApiCategory::kHealth, Headers({}), "10.0.0.1"));
  }
}

TEST(Admission, RateLimitCountsAgainstTheTokenWhenTokensAreUsed) {
  auto auth = TokenAuthorizer();
  security::RateLimiter limiter({.requests_per_second = 1, .burst = 1});
  Admission admission(&auth, &limiter);
  auto infer = Headers({{"authorization", "Bearer infer-tok"}});
  auto admin = Headers({{"authorization", "Bearer admin-tok"}});
  EXPECT_FALSE(admission.Admit(ApiCategory::kInference, infer, "10.0.0.1"));
  EXPECT_TRUE(admission.Admit(ApiCategory::kInference, infer, "10.0.0.9"));   // same token
  EXPECT_FALSE(admission.Admit(ApiCategory::kInference, admin, "10.0.0.1"));  // same peer
}

TEST(Admission, CredentialsAreCheckedBeforeTheRateIsCounted) {
  auto auth = TokenAuthorizer();
  security::RateLimiter limiter({.requests_per_second = 1, .burst = 1});
  Admission admission(&auth, &limiter);
  for (int i = 0; i < 3; ++i) {
    auto rejection = admission.Admit(ApiCategory::kInference, Headers({}), "10.0.0.1");
    ASSERT_TRUE(rejection);
    EXPECT_EQ(rejection->kind, Kind::kUnauthenticated);
  }
  EXPECT_FALSE(admission.Admit(ApiCategory::kInference,
                               Headers({{"authorization", "Bearer infer-tok"}}), "10.0.0.1"));
}

}  // namespace
}  // namespace inferd::handler
