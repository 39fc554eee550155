// The version policy of a model: which of the version directories found in the repository are
// served. Pure function over version numbers; the model repository calls it on every scan.
#pragma once

#include <cstdint>
#include <vector>

#include "config/model_config.pb.h"

namespace inferd::config {

// Which of the available versions (any order, duplicates ignored) to serve, in ascending order.
// No policy set = latest { num_versions: 1 }; latest { num_versions: 0 } also means 1 (Triton's
// documented default). specific {} versions that are not available are simply not served.
std::vector<int64_t> SelectVersions(const ModelVersionPolicy& policy,
                                    std::vector<int64_t> available);

}  // namespace inferd::config
