// RoutingPolicy: which READY version answers a request that names no version. `latest` (the
// default) takes the highest; `pinned` one fixed version; `weighted` splits traffic by weight
// (a canary: 90% to v2, 10% to v3). Rollback pins the version before the newest one the
// policy sends traffic to. Pure and deterministic given the random draw; the repository calls
// it on every request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace inferd::repository {

struct RoutingPolicy {
  enum class Kind { kLatest, kPinned, kWeighted };
  Kind kind = Kind::kLatest;
  int64_t pinned_version = 0;                         // kPinned
  std::vector<std::pair<int64_t, uint32_t>> weights;  // kWeighted: (version, weight > 0)

  bool operator==(const RoutingPolicy&) const = default;
};

// Text form, used in config.pbtxt (model parameter "routing") and logs:
//   "latest" | "pinned:<v>" | "weighted:<v>=<w>,<v>=<w>,…"
Result<RoutingPolicy> ParseRoutingPolicy(std::string_view text);
std::string RoutingPolicyToString(const RoutingPolicy& policy);

// The version to serve among `ready` (ascending). `draw` is a uniform random number; weighted
// policies use it to pick. UNAVAILABLE when the policy names no READY version.
Result<int64_t> ChooseVersion(const RoutingPolicy& policy, const std::vector<int64_t>& ready,
                              uint64_t draw);

// Checks that every version the policy names is among `ready`.
Status CheckPolicyAgainst(const RoutingPolicy& policy, const std::vector<int64_t>& ready);

// The policy after a rollback: pinned to the highest READY version below the newest version
// the current policy sends traffic to. FAILED_PRECONDITION when there is none.
Result<RoutingPolicy> RollbackPolicy(const RoutingPolicy& current,
                                     const std::vector<int64_t>& ready);

}  // namespace inferd::repository
