// The repository index as both transports answer it: one entry per model version (one per
// model when none of its versions was found), in Triton's shape — name, version, state,
// reason — plus inferd's routing policy and cold-start figures for READY versions. Built once
// here from the repository's status, so HTTP and gRPC list exactly the same entries. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "repository/model_repository.h"

namespace inferd::handler {

struct IndexEntry {
  std::string name;
  std::optional<int64_t> version;  // nullopt: the model failed before any version was found
  std::string state;               // "READY", "UNAVAILABLE", "LOADING", …
  std::string reason;              // why it is not READY; empty otherwise
  std::string routing;             // the model's routing policy, e.g. "latest"
  struct ColdStart {
    double load_seconds = 0;         // session creation + warm-up
    uint64_t memory_bytes = 0;       // estimated resident bytes of the version
    int64_t first_response_us = -1;  // load → first answer; -1 until it has answered
  };
  std::optional<ColdStart> cold_start;  // READY versions only
};

// Entries of `models` in their order; only READY versions when `ready_only`.
std::vector<IndexEntry> BuildRepositoryIndex(const std::vector<repository::ModelStatus>& models,
                                             bool ready_only);

}  // namespace inferd::handler
