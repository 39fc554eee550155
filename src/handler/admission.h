// Admission: the checks every call passes before it reaches the server, whichever transport
// carried it — credentials (security::Authorizer: bearer tokens, Triton's restricted APIs) and
// the per-client rate limit (security::RateLimiter). The transport gives the call's API group,
// a header lookup (HTTP headers or gRPC metadata, by lower-case name) and the peer's address;
// it answers a Rejection in its own protocol (HTTP 401/403/429, gRPC UNAUTHENTICATED /
// PERMISSION_DENIED / RESOURCE_EXHAUSTED). Owned by RequestHandler; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "security/authorizer.h"
#include "security/rate_limiter.h"

namespace inferd::handler {

struct Rejection {
  enum class Kind {
    kUnauthenticated,   // no or unknown credentials (HTTP 401, gRPC UNAUTHENTICATED)
    kPermissionDenied,  // known credentials without the scope (HTTP 403, PERMISSION_DENIED)
    kRateLimited,       // over the client's rate (HTTP 429, gRPC RESOURCE_EXHAUSTED)
  };
  Kind kind = Kind::kUnauthenticated;
  std::string message;        // why; never holds a token
  int64_t retry_after_s = 0;  // kRateLimited: whole seconds until a call is allowed again
};

class Admission {
 public:
  // Neither is owned; both must outlive this object; null = no check of that kind.
  Admission(const security::Authorizer* authorizer, security::RateLimiter* rate_limiter)
      : authorizer_(authorizer), rate_limiter_(rate_limiter) {}

  // Whether any check is configured: a transport may skip building the lookup otherwise.
  bool enabled() const {
    return (authorizer_ != nullptr && authorizer_->enabled()) ||
           (rate_limiter_ != nullptr && rate_limiter_->enabled());
  }

  // nullopt when the call may go on. Health probes are never rate limited. The rate limit
  // counts against the bearer token when tokens are asked for (the token has been checked by
  // then), else against `peer_address` (an IP address without port), so one client's HTTP and
  // gRPC calls share one bucket.
  std::optional<Rejection> Admit(security::ApiCategory api, const security::HeaderLookup& header,
                                 std::string_view peer_address) const;

 private:
  const security::Authorizer* const authorizer_;
  security::RateLimiter* const rate_limiter_;
};

}  // namespace inferd::handler
