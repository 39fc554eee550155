// ModelRepository's upkeep: the memory budget's evictions, the poll mode's rescans and the
// idle models' scale-to-zero, run on the repository's maintenance thread (model_repository.h).
#include <fmt/format.h>
#include <malloc.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "config/model_config.h"
#include "repository/model_repository.h"
#include "repository/version_loader.h"

namespace inferd::repository {

ModelRepository::Usage ModelRepository::UsageOf(const ModelEntry& entry) {
  Usage usage;
  for (const auto& [v, ve] : entry.versions) {
    if (!ve.servable) continue;
    usage.ready = true;
    usage.busy |= ve.servable.use_count() > 1;
    usage.last_used_ns = std::max(usage.last_used_ns, ve.servable->last_used_ns());
  }
  return usage;
}

Status ModelRepository::EvictFor(const std::string& name, uint64_t needed_bytes) {
  std::vector<std::shared_ptr<const ServableModel>> dropped;
  MutexLock lock(mu_);
  for (;;) {
    uint64_t used = 0;
    for (const auto& [n, e] : models_) {
      if (n == name) continue;  // being replaced
      for (const auto& [v, ve] : e.versions) {
        if (ve.servable) used += ve.servable->cost().memory_bytes;
      }
    }
    if (used + needed_bytes <= options_.memory_budget_bytes) return Status::Ok();
    // The least recently used model that no request holds.
    ModelEntry* victim = nullptr;
    int64_t victim_used = 0;
    for (auto& [n, e] : models_) {
      if (n == name) continue;
      const Usage usage = UsageOf(e);
      if (usage.ready && !usage.busy && (victim == nullptr || usage.last_used_ns < victim_used)) {
        victim = &e;
        victim_used = usage.last_used_ns;
      }
    }
    if (victim == nullptr) {
      return ResourceExhausted(fmt::format(
          "model '{}' needs about {} bytes but the memory budget is {} bytes and {} are held "
          "by models in use",
          name, needed_bytes, options_.memory_budget_bytes, used));
    }
    spdlog::info("model '{}': evicted (least recently used) to fit '{}' in the memory budget",
                 victim->status.name, name);
    UnloadLocked(*victim, fmt::format("evicted to fit '{}' in the memory budget", name),
                 /*reloadable=*/true, dropped);
  }
}

void ModelRepository::Poll() {
  SyncSources();
  const std::vector<std::string> on_disk = ModelDirectories();
  std::vector<std::string> to_load;
  std::vector<std::shared_ptr<const ServableModel>> dropped;
  {
    MutexLock lock(mu_);
    for (const auto& name : on_disk) {
      auto it = models_.find(name);
      if (it == models_.end() ||
          (!it->second.reloadable &&
           it->second.fingerprint != ModelFingerprint(ModelDir(name)))) {
        to_load.push_back(name);
      }
    }
    for (auto& [name, entry] : models_) {
      if (!std::binary_search(on_disk.begin(), on_disk.end(), name) &&
          entry.status.reason != "removed from the repository") {
        UnloadLocked(entry, "removed from the repository", false, dropped);
        spdlog::info("model '{}': removed from the repository; unloading", name);
      }
    }
  }
  for (const auto& name : to_load) {
    spdlog::info("model '{}': changed on disk; loading", name);
    (void)LoadModel(name);  // failures are logged and kept in the index
  }
}

void ModelRepository::UnloadIdleModels() {
  const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
  std::vector<std::shared_ptr<const ServableModel>> dropped;
  MutexLock lock(mu_);
  for (auto& [name, entry] : models_) {
    int64_t idle_seconds = 0;
    for (const auto& [v, ve] : entry.versions) {
      if (!ve.servable) continue;
      if (auto p = config::GetParameter(ve.servable->config(), "idle_unload_seconds")) {
        idle_seconds = std::atoll(p->c_str());
      }
    }
    const Usage usage = UsageOf(entry);
    if (!usage.ready || usage.busy || idle_seconds <= 0) continue;
    if (now - usage.last_used_ns >= idle_seconds * int64_t{1000000000}) {
      spdlog::info("model '{}': idle for {} s; scaling to zero", name, idle_seconds);
      UnloadLocked(entry, "scaled to zero after being idle", /*reloadable=*/true, dropped);
    }
  }
}

void ModelRepository::MaintenanceLoop() {
  pthread_setname_np(pthread_self(), "repo-maint");
  auto next_poll = std::chrono::steady_clock::now() +
                   std::chrono::seconds(std::max(1, options_.poll_interval_seconds));
  for (;;) {
    {
      MutexLock lock(stop_mu_);
      stop_cv_.WaitFor(stop_mu_, std::chrono::milliseconds(250),
                       [this]() NO_THREAD_SAFETY_ANALYSIS { return stopping_; });
      if (stopping_) return;
    }
    UnloadIdleModels();
    if (options_.control_mode == ControlMode::kPoll &&
        std::chrono::steady_clock::now() >= next_poll) {
      Poll();
      next_poll = std::chrono::steady_clock::now() +
                  std::chrono::seconds(std::max(1, options_.poll_interval_seconds));
    }
    malloc_trim(0);  // hand freed model memory back to the OS
  }
}

}  // namespace inferd::repository
