#include "config/version_policy.h"

#include <algorithm>

namespace inferd::config {

std::vector<int64_t> SelectVersions(const ModelVersionPolicy& policy,
                                    std::vector<int64_t> available) {
  std::sort(available.begin(), available.end());
  available.erase(std::unique(available.begin(), available.end()), available.end());

  switch (policy.policy_choice_case()) {
    case ModelVersionPolicy::kAll:
      return available;
    case ModelVersionPolicy::kSpecific: {
      const auto& wanted = policy.specific().versions();
      std::vector<int64_t> selected;
      for (int64_t version : available) {
        if (std::find(wanted.begin(), wanted.end(), version) != wanted.end()) {
          selected.push_back(version);
        }
      }
      return selected;
    }
    case ModelVersionPolicy::kLatest:
    case ModelVersionPolicy::POLICY_CHOICE_NOT_SET:
      break;
  }
  size_t count = 1;
  if (policy.has_latest() && policy.latest().num_versions() > 0) {
    count = policy.latest().num_versions();
  }
  count = std::min(count, available.size());
  return std::vector<int64_t>(available.end() - static_cast<std::ptrdiff_t>(count),
                              available.end());
}

}  // namespace inferd::config
