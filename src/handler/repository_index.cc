#include "handler/repository_index.h"

namespace inferd::handler {

std::vector<IndexEntry> BuildRepositoryIndex(const std::vector<repository::ModelStatus>& models,
                                             bool ready_only) {
  std::vector<IndexEntry> out;
  for (const auto& m : models) {
    if (m.versions.empty()) {
      if (ready_only) continue;
      // A model on disk that was never loaded has no state, as in Triton's index.
      const repository::ModelState state = m.state;
      std::string state_name = state == repository::ModelState::kUnknown
                                   ? std::string()
                                   : std::string(repository::ModelStateName(state));
      IndexEntry e;
      e.name = m.name;
      e.state = std::move(state_name);
      e.reason = m.reason;
      e.routing = m.routing;
      out.push_back(std::move(e));
      continue;
    }
    for (const auto& v : m.versions) {
      const bool ready = v.state == repository::ModelState::kReady;
      if (ready_only && !ready) continue;
      IndexEntry e;
      e.name = m.name;
      e.version = v.version;
      e.state = std::string(repository::ModelStateName(v.state));
      e.reason = v.reason;
      e.routing = m.routing;
      if (ready)
        e.cold_start = IndexEntry::ColdStart{v.load_seconds, v.memory_bytes, v.first_response_us};
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace inferd::handler
