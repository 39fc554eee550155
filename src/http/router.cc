#include "http/router.h"

#include <array>
#include <charconv>

#include <fmt/format.h>

namespace inferd::http {
namespace {

// The non-empty segments of a path, in a fixed array: no endpoint has more than kMaxParts,
// so a longer path is simply no endpoint (size() reports kMaxParts + 1 then).
class PathParts {
 public:
  static constexpr size_t kMaxParts = 6;
  explicit PathParts(std::string_view path) {
    size_t pos = 0;
    while (pos <= path.size()) {
      size_t next = path.find('/', pos);
      if (next == std::string_view::npos) next = path.size();
      if (next > pos) {
        if (n_ == kMaxParts) {
          ++n_;  // too many: matches nothing
          return;
        }
        parts_[n_++] = path.substr(pos, next - pos);
      }
      pos = next + 1;
    }
  }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  std::string_view operator[](size_t i) const { return parts_[i]; }

 private:
  std::array<std::string_view, kMaxParts> parts_;
  size_t n_ = 0;
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// /v2/systemsharedmemory/status, .../unregister, .../region/{r}/{status|register|unregister}.
template <typename NotFound>
Result<Route> MatchSharedMemoryRoute(const PathParts& parts, Route route, NotFound not_found) {
  std::string_view action;
  if (parts.size() == 3) {
    action = parts[2];
  } else if (parts.size() == 5 && parts[2] == "region") {
    ASSIGN_OR_RETURN(route.region, PercentDecode(parts[3]));
    if (route.region.empty()) return InvalidArgument("empty shared-memory region name");
    action = parts[4];
  } else {
    return not_found();
  }
  if (action == "status") {
    route.endpoint = Endpoint::kShmStatus;
  } else if (action == "unregister") {
    route.endpoint = Endpoint::kShmUnregister;
    route.method = Method::kPost;
  } else if (action == "register" && parts.size() == 5) {
    route.endpoint = Endpoint::kShmRegister;
    route.method = Method::kPost;
  } else {
    return not_found();
  }
  return route;
}

}  // namespace

security::ApiCategory ApiCategoryOf(Endpoint endpoint) {
  using security::ApiCategory;
  switch (endpoint) {
    case Endpoint::kHealthLive:
    case Endpoint::kHealthReady:
    case Endpoint::kModelReady:
    case Endpoint::kConsole: return ApiCategory::kHealth;
    case Endpoint::kServerMetadata:
    case Endpoint::kModelMetadata:
    case Endpoint::kOpenApi: return ApiCategory::kMetadata;
    case Endpoint::kModelConfig: return ApiCategory::kModelConfig;
    case Endpoint::kModelInfer: return ApiCategory::kInference;
    case Endpoint::kModelStatistics: return ApiCategory::kStatistics;
    case Endpoint::kRepositoryIndex:
    case Endpoint::kRepositoryLoad:
    case Endpoint::kRepositoryUnload:
    case Endpoint::kModelRouting:
    case Endpoint::kModelRollback: return ApiCategory::kModelRepository;
    case Endpoint::kMetrics: return ApiCategory::kMetrics;
    case Endpoint::kLogging: return ApiCategory::kLogging;
    case Endpoint::kTraceSetting: return ApiCategory::kTrace;
    case Endpoint::kShmStatus:
    case Endpoint::kShmRegister:
    case Endpoint::kShmUnregister: return ApiCategory::kSharedMemory;
    case Endpoint::kJobList:
    case Endpoint::kJob: return ApiCategory::kInference;
  }
  return ApiCategory::kModelRepository;  // unreachable; the most restricted group
}

Result<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) {
      return InvalidArgument(fmt::format("malformed percent-escape in '{}'", s));
    }
    const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return InvalidArgument(fmt::format("malformed percent-escape in '{}'", s));
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

namespace {

// Sets route.model from its percent-encoded path segment; INVALID_ARGUMENT for a name that
// could step out of the repository.
Status SetModelName(std::string_view raw, Route& route) {
  ASSIGN_OR_RETURN(route.model, PercentDecode(raw));
  if (route.model.empty() || route.model.find('/') != std::string::npos || route.model == "." ||
      route.model == "..") {
    return InvalidArgument(fmt::format("invalid model name '{}'", raw));
  }
  return Status::Ok();
}

// /v2/repository/index, /v2/repository/models/{m}/{load|unload|routing|rollback}.
template <typename NotFound>
Result<Route> MatchRepositoryRoute(const PathParts& parts, Route route, NotFound not_found) {
  route.method = Method::kPost;
  if (parts.size() == 3 && parts[2] == "index") {
    route.endpoint = Endpoint::kRepositoryIndex;
    return route;
  }
  if (parts.size() != 5 || parts[2] != "models") return not_found();
  const std::string_view action = parts[4];
  if (action == "routing") {
    route.endpoint = Endpoint::kModelRouting;
  } else if (action == "rollback") {
    route.endpoint = Endpoint::kModelRollback;
  } else if (action == "load") {
    route.endpoint = Endpoint::kRepositoryLoad;
  } else if (action == "unload") {
    route.endpoint = Endpoint::kRepositoryUnload;
  } else {
    return not_found();
  }
  RETURN_IF_ERROR(SetModelName(parts[3], route));
  return route;
}

// /v2/models/{m}[/versions/{v}][/{ready|config|stats|infer}], /v2/models/{m}/trace/setting.
template <typename NotFound>
Result<Route> MatchModelRoute(const PathParts& parts, Route route, NotFound not_found) {
  RETURN_IF_ERROR(SetModelName(parts[2], route));
  size_t i = 3;
  if (parts.size() >= 5 && parts[3] == "versions") {
    const std::string_view v = parts[4];
    int64_t version = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), version);
    if (ec != std::errc() || ptr != v.data() + v.size() || version < 1) {
      return InvalidArgument(fmt::format("invalid model version '{}': expected a positive integer", v));
    }
    route.version = version;
    i = 5;
  } else if (parts.size() == 4 && parts[3] == "versions") {
    return not_found();
  }
  if (i == parts.size()) {
    route.endpoint = Endpoint::kModelMetadata;
    return route;
  }
  if (i == 3 && parts.size() == 5 && parts[3] == "trace" && parts[4] == "setting") {
    route.endpoint = Endpoint::kTraceSetting;
    route.also_post = true;
    return route;
  }
  if (i + 1 != parts.size()) return not_found();
  const std::string_view action = parts[i];
  if (action == "ready") {
    route.endpoint = Endpoint::kModelReady;
  } else if (action == "config") {
    route.endpoint = Endpoint::kModelConfig;
  } else if (action == "stats") {
    route.endpoint = Endpoint::kModelStatistics;
  } else if (action == "infer") {
    route.endpoint = Endpoint::kModelInfer;
    route.method = Method::kPost;
  } else {
    return not_found();
  }
  return route;
}

}  // namespace

Result<Route> MatchRoute(std::string_view target) {
  const size_t query = target.find('?');
  const std::string_view path = target.substr(0, query);
  const PathParts parts(path);
  auto not_found = [&]() { return NotFound(fmt::format("no endpoint at '{}'", path)); };
  Route route;
  if (parts.size() == 1 && parts[0] == "metrics") {
    route.endpoint = Endpoint::kMetrics;
    return route;
  }
  if (!parts.empty() && parts[0] == "console" && parts.size() <= 2) {
    route.endpoint = Endpoint::kConsole;
    route.file = parts.size() == 2 ? std::string(parts[1]) : "index.html";
    return route;
  }
  if (parts.empty() || parts[0] != "v2") return not_found();
  if (parts.size() == 2 && parts[1] == "logging") {
    route.endpoint = Endpoint::kLogging;
    route.also_post = true;
    return route;
  }
  if (parts.size() == 1) {
    route.endpoint = Endpoint::kServerMetadata;
    return route;
  }
  if (parts.size() == 2 && parts[1] == "openapi.json") {
    route.endpoint = Endpoint::kOpenApi;
    return route;
  }
  if (parts.size() == 3 && parts[1] == "trace" && parts[2] == "setting") {
    route.endpoint = Endpoint::kTraceSetting;
    route.also_post = true;
    return route;
  }
  if (parts[1] == "systemsharedmemory") return MatchSharedMemoryRoute(parts, route, not_found);
  if (parts[1] == "jobs") {
    if (parts.size() == 2) {
      route.endpoint = Endpoint::kJobList;
      return route;
    }
    if (parts.size() != 3) return not_found();
    route.endpoint = Endpoint::kJob;
    route.also_delete = true;
    route.job_id = std::string(parts[2]);
    return route;
  }
  if (parts[1] == "health" && parts.size() == 3) {
    if (parts[2] == "live") route.endpoint = Endpoint::kHealthLive;
    else if (parts[2] == "ready") route.endpoint = Endpoint::kHealthReady;
    else return not_found();
    return route;
  }
  if (parts[1] == "repository") return MatchRepositoryRoute(parts, route, not_found);
  if (parts[1] != "models" || parts.size() < 3) return not_found();
  if (parts.size() == 3 && parts[2] == "stats") {
    route.endpoint = Endpoint::kModelStatistics;
    return route;
  }
  return MatchModelRoute(parts, route, not_found);
}

}  // namespace inferd::http
