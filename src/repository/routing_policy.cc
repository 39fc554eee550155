#include "repository/routing_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace inferd::repository {
namespace {

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool Contains(const std::vector<int64_t>& v, int64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

Result<RoutingPolicy> ParseRoutingPolicy(std::string_view text) {
  RoutingPolicy p;
  if (text == "latest") return p;
  auto bad = [&](std::string_view why) {
    return InvalidArgument(
        fmt::format("routing policy '{}': {}; expected latest, pinned:<version> or "
                    "weighted:<version>=<weight>,…",
                    text, why));
  };
  if (text.starts_with("pinned:")) {
    p.kind = RoutingPolicy::Kind::kPinned;
    if (!ParseNumber(text.substr(7), &p.pinned_version) || p.pinned_version < 1) {
      return bad("the version is not a positive integer");
    }
    return p;
  }
  if (!text.starts_with("weighted:")) return bad("unknown policy");
  p.kind = RoutingPolicy::Kind::kWeighted;
  std::string_view rest = text.substr(9);
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const size_t eq = item.find('=');
    int64_t version = 0;
    uint32_t weight = 0;
    if (eq == std::string_view::npos || !ParseNumber(item.substr(0, eq), &version) ||
        !ParseNumber(item.substr(eq + 1), &weight) || version < 1) {
      return bad(fmt::format("cannot read '{}'", item));
    }
    for (const auto& [v, w] : p.weights) {
      if (v == version) return bad(fmt::format("version {} appears twice", version));
    }
    if (weight > 0) p.weights.emplace_back(version, weight);
  }
  if (p.weights.empty()) return bad("no version has a weight above zero");
  std::sort(p.weights.begin(), p.weights.end());
  return p;
}

std::string RoutingPolicyToString(const RoutingPolicy& p) {
  switch (p.kind) {
    case RoutingPolicy::Kind::kLatest:
      return "latest";
    case RoutingPolicy::Kind::kPinned:
      return fmt::format("pinned:{}", p.pinned_version);
    case RoutingPolicy::Kind::kWeighted: {
      std::string s = "weighted:";
      for (size_t i = 0; i < p.weights.size(); ++i) {
        s += fmt::format("{}{}={}", i ? "," : "", p.weights[i].first, p.weights[i].second);
      }
      return s;
    }
  }
  return "latest";
}

Status CheckPolicyAgainst(const RoutingPolicy& policy, const std::vector<int64_t>& ready) {
  if (policy.kind == RoutingPolicy::Kind::kPinned && !Contains(ready, policy.pinned_version)) {
    return FailedPrecondition(fmt::format("version {} is not READY", policy.pinned_version));
  }
  if (policy.kind == RoutingPolicy::Kind::kWeighted) {
    for (const auto& [v, w] : policy.weights) {
      if (!Contains(ready, v)) return FailedPrecondition(fmt::format("version {} is not READY", v));
    }
  }
  if (ready.empty()) return FailedPrecondition("no version is READY");
  return Status::Ok();
}

Result<int64_t> ChooseVersion(const RoutingPolicy& policy, const std::vector<int64_t>& ready,
                              uint64_t draw) {
  if (ready.empty()) return Unavailable("no version is READY");
  switch (policy.kind) {
    case RoutingPolicy::Kind::kLatest:
      return ready.back();
    case RoutingPolicy::Kind::kPinned:
      if (!Contains(ready, policy.pinned_version)) {
        return Unavailable(fmt::format("pinned version {} is not READY", policy.pinned_version));
      }
      return policy.pinned_version;
    case RoutingPolicy::Kind::kWeighted: {
      uint64_t total = 0;
      for (const auto& [v, w] : policy.weights) {
        if (Contains(ready, v)) total += w;
      }
      if (total == 0) return Unavailable("no version of the weighted policy is READY");
      uint64_t point = draw % total;
      for (const auto& [v, w] : policy.weights) {
        if (!Contains(ready, v)) continue;
        if (point < w) return v;
        point -= w;
      }
      return Internal("weighted routing fell through");
    }
  }
  return Internal("unknown routing policy");
}

Result<RoutingPolicy> RollbackPolicy(const RoutingPolicy& current,
                                     const std::vector<int64_t>& ready) {
  int64_t newest = 0;
  switch (current.kind) {
    case RoutingPolicy::Kind::kLatest:
      newest = ready.empty() ? 0 : ready.back();
      break;
    case RoutingPolicy::Kind::kPinned:
      newest = current.pinned_version;
      break;
    case RoutingPolicy::Kind::kWeighted:
      for (const auto& [v, w] : current.weights) newest = std::max(newest, v);
      break;
  }
  int64_t previous = 0;
  for (int64_t v : ready) {
    if (v < newest) previous = v;
  }
  if (previous == 0) {
    return FailedPrecondition(fmt::format(
        "no READY version older than {} to roll back to (keep it loaded with version_policy "
        "latest {{ num_versions: 2 }} or all {{}})",
        newest));
  }
  RoutingPolicy p;
  p.kind = RoutingPolicy::Kind::kPinned;
  p.pinned_version = previous;
  return p;
}

}  // namespace inferd::repository
