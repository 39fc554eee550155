#include "security/authorizer.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

namespace inferd::security {
namespace {

struct CategoryName {
  ApiCategory api;
  std::string_view name;
};

constexpr std::array<CategoryName, 10> kCategories{{
    {ApiCategory::kHealth, "health"},
    {ApiCategory::kMetadata, "metadata"},
    {ApiCategory::kInference, "inference"},
    {ApiCategory::kModelConfig, "model-config"},
    {ApiCategory::kModelRepository, "model-repository"},
    {ApiCategory::kStatistics, "statistics"},
    {ApiCategory::kTrace, "trace"},
    {ApiCategory::kLogging, "logging"},
    {ApiCategory::kSharedMemory, "shared-memory"},
    {ApiCategory::kMetrics, "metrics"},
}};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The token of "Bearer <token>"; nullopt for another scheme or an empty token.
std::optional<std::string_view> BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme) ||
      authorization[kScheme.size()] != ' ') {
    return std::nullopt;
  }
  std::string_view token = authorization.substr(kScheme.size() + 1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

}  // namespace

std::string_view ApiCategoryName(ApiCategory api) {
  for (const auto& c : kCategories) {
    if (c.api == api) return c.name;
  }
  return "unknown";
}

Result<ApiCategory> ParseApiCategory(std::string_view name) {
  for (const auto& c : kCategories) {
    if (c.name == name) return c.api;
  }
  return InvalidArgument(fmt::format(
      "unknown API '{}': expected health, metadata, inference, model-config, model-repository, "
      "statistics, trace, logging, shared-memory or metrics",
      name));
}

Scope RequiredScope(ApiCategory api) {
  switch (api) {
    case ApiCategory::kHealth: return Scope::kNone;
    case ApiCategory::kMetadata:
    case ApiCategory::kInference:
    case ApiCategory::kModelConfig:
    case ApiCategory::kStatistics:
    case ApiCategory::kMetrics: return Scope::kInfer;
    case ApiCategory::kModelRepository:
    case ApiCategory::kTrace:
    case ApiCategory::kLogging:
    case ApiCategory::kSharedMemory: return Scope::kAdmin;
  }
  return Scope::kAdmin;
}

Result<RestrictedApi> ParseRestrictedApi(std::string_view spec) {
  const size_t colon = spec.find(':');
  auto error = [](std::string_view what) {
    return InvalidArgument(fmt::format(
        "--http-restricted-api: {} (expected API[,API...]:header=value)", what));
  };
  if (colon == std::string_view::npos) return error("no ':'");
  RestrictedApi restricted;
  std::string_view apis = spec.substr(0, colon);
  while (true) {
    const size_t comma = apis.find(',');
    ASSIGN_OR_RETURN(ApiCategory api, ParseApiCategory(apis.substr(0, comma)));
    if (std::find(restricted.apis.begin(), restricted.apis.end(), api) == restricted.apis.end()) {
      restricted.apis.push_back(api);
    }
    if (comma == std::string_view::npos) break;
    apis.remove_prefix(comma + 1);
  }
  const std::string_view pair = spec.substr(colon + 1);
  const size_t eq = pair.find('=');
  if (eq == std::string_view::npos) return error("no '=' between header and value");
  const std::string_view header = pair.substr(0, eq);
  if (header.empty()) return error("empty header name");
  for (char c : header) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
      return error("the header name holds a character other than letters, digits, '-', '_'");
    }
  }
  restricted.header = ToLower(header);
  restricted.value = std::string(pair.substr(eq + 1));
  return restricted;
}

Result<Authorizer> Authorizer::Create(Options options) {
  std::vector<ApiCategory> seen;
  for (const auto& r : options.restricted) {
    for (ApiCategory api : r.apis) {
      if (std::find(seen.begin(), seen.end(), api) != seen.end()) {
        return InvalidArgument(fmt::format(
            "--http-restricted-api: API '{}' is restricted twice", ApiCategoryName(api)));
      }
      seen.push_back(api);
    }
  }
  return Authorizer(std::move(options));
}

AuthDecision Authorizer::Check(ApiCategory api, const HeaderLookup& headers) const {
  for (const auto& r : options_.restricted) {
    if (std::find(r.apis.begin(), r.apis.end(), api) == r.apis.end()) continue;
    const auto value = headers(r.header);
    if (!value || !ConstantTimeEquals(*value, r.value)) {
      return {AuthOutcome::kPermissionDenied,
              fmt::format("This API is restricted, expecting header '{}'", r.header)};
    }
  }
  if (!options_.tokens) return {};
  Scope required = RequiredScope(api);
  if (api == ApiCategory::kHealth && !options_.open_health) required = Scope::kInfer;
  if (required == Scope::kNone) return {};
  const auto authorization = headers("authorization");
  if (!authorization) {
    return {AuthOutcome::kUnauthenticated,
            "missing credentials: send 'Authorization: Bearer <token>'"};
  }
  const auto token = BearerToken(*authorization);
  if (!token) {
    return {AuthOutcome::kUnauthenticated,
            "malformed credentials: expected 'Authorization: Bearer <token>'"};
  }
  const Scope granted = options_.tokens->Lookup(*token);
  if (granted == Scope::kNone) return {AuthOutcome::kUnauthenticated, "unknown token"};
  if (!ScopeAllows(granted, required)) {
    return {AuthOutcome::kPermissionDenied,
            fmt::format("the token's scope '{}' does not cover the {} API (needs '{}')",
                        ScopeName(granted), ApiCategoryName(api), ScopeName(required))};
  }
  return {};
}

}  // namespace inferd::security
