#include "handler/admission.h"

#include <fmt/format.h>

namespace inferd::handler {

std::optional<Rejection> Admission::Admit(security::ApiCategory api,
                                          const security::HeaderLookup& header,
                                          std::string_view peer_address) const {
  if (authorizer_ != nullptr && authorizer_->enabled()) {
    security::AuthDecision decision = authorizer_->Check(api, header);
    if (!decision.allowed()) {
      return Rejection{decision.outcome == security::AuthOutcome::kUnauthenticated
                           ? Rejection::Kind::kUnauthenticated
                           : Rejection::Kind::kPermissionDenied,
                       std::move(decision.message), 0};
    }
  }
  if (rate_limiter_ == nullptr || !rate_limiter_->enabled() ||
      api == security::ApiCategory::kHealth) {
    return std::nullopt;
  }
  std::string client;
  if (auto token = header("authorization");
      token && authorizer_ != nullptr && authorizer_->uses_tokens()) {
    client = fmt::format("token:{}", *token);
  } else {
    client = fmt::format("ip:{}", peer_address);
  }
  const int64_t retry_s = rate_limiter_->Acquire(client, security::RateLimiter::Clock::now());
  if (retry_s == 0) return std::nullopt;
  return Rejection{Rejection::Kind::kRateLimited,
                   fmt::format("rate limit exceeded; retry after {} s", retry_s), retry_s};
}

}  // namespace inferd::handler
