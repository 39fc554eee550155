// Authorizer: decides whether a request may call an API, from its bearer token
// (`Authorization: Bearer <token>`, the gRPC `authorization` metadata) and from Triton's
// `--http-restricted-api=API[,API...]:header=value` restrictions. Pure: the frontends map their
// endpoint or RPC to an ApiCategory, pass a header lookup and answer the decision in their own
// protocol (HTTP 401/403, gRPC UNAUTHENTICATED/PERMISSION_DENIED). Thread-safe (read-only).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "security/token_table.h"

namespace inferd::security {

// API groups, named as Triton's --http-restricted-api names them ("metrics" is inferd's).
enum class ApiCategory {
  kHealth,           // health, server and model readiness
  kMetadata,         // server and model metadata
  kInference,        // infer, stream infer
  kModelConfig,      // model config
  kModelRepository,  // repository index, load, unload, routing, rollback
  kStatistics,       // model statistics
  kTrace,            // trace settings
  kLogging,          // log settings
  kSharedMemory,     // system shared memory register, status, unregister
  kMetrics,          // GET /metrics on the HTTP port
};

std::string_view ApiCategoryName(ApiCategory api);
Result<ApiCategory> ParseApiCategory(std::string_view name);
// The scope a bearer token needs for `api`: infer for inference, metadata, config, statistics
// and metrics; admin for the repository API, logging and trace; none for health.
Scope RequiredScope(ApiCategory api);

// One --http-restricted-api value: requests to `apis` must carry header `header` (lower case)
// with exactly `value`.
struct RestrictedApi {
  std::vector<ApiCategory> apis;
  std::string header;
  std::string value;
};
// "model-repository,logging:admin-key=secret". INVALID_ARGUMENT (without the value) otherwise.
Result<RestrictedApi> ParseRestrictedApi(std::string_view spec);

enum class AuthOutcome { kAllowed, kUnauthenticated, kPermissionDenied };

struct AuthDecision {
  AuthOutcome outcome = AuthOutcome::kAllowed;
  std::string message;  // why not; never holds a token
  bool allowed() const { return outcome == AuthOutcome::kAllowed; }
};

// Returns a request header's value by its lower-case name; nullopt when absent.
using HeaderLookup = std::function<std::optional<std::string_view>(std::string_view name)>;

class Authorizer {
 public:
  struct Options {
    // Bearer tokens (--auth-token-file); nullopt = no token is asked for.
    std::optional<TokenTable> tokens;
    // Triton-style header restrictions (--http-restricted-api, repeatable).
    std::vector<RestrictedApi> restricted;
    // Health endpoints answer without a token (for probes); false asks for an infer token.
    bool open_health = true;
  };

  // INVALID_ARGUMENT when two restrictions name the same API.
  static Result<Authorizer> Create(Options options);
  Authorizer() = default;  // allows everything

  // False when nothing is restricted: frontends may skip the check.
  bool enabled() const { return options_.tokens.has_value() || !options_.restricted.empty(); }

  // Whether bearer tokens are asked for (so a request that passed Check() names its client).
  bool uses_tokens() const { return options_.tokens.has_value(); }

  AuthDecision Check(ApiCategory api, const HeaderLookup& headers) const;

 private:
  explicit Authorizer(Options options) : options_(std::move(options)) {}
  Options options_;
};

}  // namespace inferd::security
