// ModelRepository: scans a Triton-layout model repository on disk and owns the lifecycle of
// every model version in it.
//
//   <root>/<model>/config.pbtxt         optional; auto-completed from the model file
//   <root>/<model>/<version>/model.onnx  numeric version folders; the version policy picks
//
// Control modes (as Triton's --model-control-mode): kNone loads everything at start; kPoll
// also rescans every poll interval and loads, reloads and unloads what changed; kExplicit
// loads only the startup models and what LoadModel asks for. A (re)load builds the new
// versions beside the old ones, which keep serving until the swap; a failed reload keeps them.
// Models may scale to zero (parameter idle_unload_seconds) and load again on their next
// request; with a memory budget, least recently used idle models are unloaded to fit a new
// one. Requests to a model without a version go where its RoutingPolicy says.
// A model that fails to load is UNAVAILABLE with its reason and does not stop the others.
// Called by server::InferenceServer; all methods are thread-safe.
#pragma once

#include <atomic>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "backends/backend_registry.h"
#include "core/mutex.h"
#include "repository/model_state.h"
#include "repository/model_unloader.h"
#include "repository/on_demand_loader.h"
#include "repository/repository_source.h"
#include "repository/routing_policy.h"
#include "repository/servable_model.h"
#include "scheduling/ensemble_scheduler.h"

namespace inferd::repository {

enum class ControlMode { kNone, kPoll, kExplicit };
// "none", "poll", "explicit".
Result<ControlMode> ParseControlMode(std::string_view text);

struct VersionStatus {
  int64_t version = 0;
  ModelState state = ModelState::kUnknown;
  std::string reason;              // why it is not READY; empty when READY
  double load_seconds = 0;         // READY versions: how long the load took
  uint64_t memory_bytes = 0;       // READY versions: estimated memory
  int64_t first_response_us = -1;  // READY versions: latency of the first request (cold start)
};

struct ModelStatus {
  std::string name;
  ModelState state = ModelState::kUnknown;  // READY if any version is READY
  std::string reason;                       // model-level failure or why it was unloaded
  std::vector<VersionStatus> versions;      // ascending
  std::string routing = "latest";           // RoutingPolicyToString
};

class ModelRepository {
 public:
  struct Options {
    std::filesystem::path root;            // the repository directory (may be empty)
    // More repositories, searched after `root` in order; a model name found in several is
    // served from the first. Synced before each scan. Not owned, must outlive the repository.
    std::vector<RepositorySource*> sources;
    // The engines; each model gets the one its config or files select (BackendRegistry::Select).
    // Not owned, must outlive the repository.
    backends::BackendRegistry* backends = nullptr;
    unsigned cpu_cores = 0;                // cores to size engine thread pools for; 0 = detect
    ControlMode control_mode = ControlMode::kNone;
    std::vector<std::string> startup_models;  // kExplicit: loaded at start; "*" = all
    bool lazy_load = false;                   // models on disk load on their first request
    uint64_t memory_budget_bytes = 0;         // loaded models' estimated bytes; 0 = unlimited
    int poll_interval_seconds = 15;           // kPoll: seconds between rescans
    // How ensembles run their steps (the server's Infer); ensembles fail to load without it.
    scheduling::StepRunner run_ensemble_step;
  };

  static Result<std::unique_ptr<ModelRepository>> Create(const Options& options);
  ~ModelRepository();

  // Loads the models the control mode asks for, then starts the maintenance thread (polling,
  // idle unloading). Failures are recorded per model, not returned.
  void Start() EXCLUDES(mu_);
  ControlMode control_mode() const { return options_.control_mode; }

  // Loads (or reloads) one model. NOT_FOUND without a model directory; INVALID_ARGUMENT when
  // nothing of it loads (the old versions then keep serving); RESOURCE_EXHAUSTED when it does
  // not fit the memory budget even after evicting idle models.
  // `config_override` replaces the model's config.pbtxt for this load (Triton's load API).
  // In explicit mode, after Start, the sources are synced first (a model added to an S3
  // repository since the start can be loaded).
  Status LoadModel(std::string_view name,
                   const std::optional<config::ModelConfig>& config_override = std::nullopt)
      EXCLUDES(mu_, load_mu_);
  // Stops serving a model; in-flight requests finish on the versions they hold.
  Status UnloadModel(std::string_view name) EXCLUDES(mu_);
  // One rescan of the repository: loads new and changed models, unloads removed ones.
  void Poll() EXCLUDES(mu_);
  // Unloads models idle for longer than their idle_unload_seconds (scale to zero).
  void UnloadIdleModels() EXCLUDES(mu_);

  // The version that serves a request: `version` > 0 asks for exactly that one, 0 lets the
  // routing policy choose. NOT_FOUND for an unknown model or version, UNAVAILABLE when the
  // model exists but is not READY. Does not count as a use (ServableModel::Touch does).
  Result<std::shared_ptr<const ServableModel>> Get(std::string_view name, int64_t version) const
      EXCLUDES(mu_);

  // True when `name` is not READY but may be loaded by its next request: it scaled to zero or
  // was evicted, or lazy loading is on and it is on disk but was never loaded.
  bool CanLoadOnDemand(std::string_view name) const EXCLUDES(mu_);
  // Loads `name` on the loader thread and calls `done` with the outcome; concurrent calls for
  // one model share a single load.
  void LoadOnDemand(std::string_view name, std::function<void(Status)> done) EXCLUDES(mu_);

  Result<RoutingPolicy> GetRouting(std::string_view name) const EXCLUDES(mu_);
  // FAILED_PRECONDITION when the policy names versions that are not READY.
  Status SetRouting(std::string_view name, const RoutingPolicy& policy) EXCLUDES(mu_);
  // Pins the version before the newest one the current policy serves; returns the new policy.
  Result<RoutingPolicy> Rollback(std::string_view name) EXCLUDES(mu_);

  // Every model's status, sorted by name. `with_unloaded`: also every model folder on disk that
  // was never loaded (state kUnknown, no versions), as Triton's index lists in explicit mode.
  std::vector<ModelStatus> Index(bool with_unloaded = false) const EXCLUDES(mu_);
  Result<ModelStatus> GetModelStatus(std::string_view name) const EXCLUDES(mu_);
  // Estimated bytes of every READY version.
  uint64_t LoadedMemoryBytes() const EXCLUDES(mu_);

 private:
  struct VersionEntry {
    VersionStatus status;
    std::shared_ptr<const ServableModel> servable;  // set iff READY
  };
  struct ModelEntry {
    ModelStatus status;  // versions filled from `versions` on read
    std::map<int64_t, VersionEntry> versions;
    RoutingPolicy routing;
    bool routing_from_config = false;  // config.pbtxt's "routing" parameter set it
    std::string fingerprint;           // of the files of the last load attempt (poll mode)
    bool reloadable = false;           // scaled to zero or evicted: loads again on demand
    std::string reload_error;          // the last reload failed; the versions shown still serve
  };

  explicit ModelRepository(const Options& options)
      : options_(options),
        on_demand_(std::make_unique<OnDemandLoader>(
            [this](const std::string& name) { return LoadModel(name); })) {}
  ModelEntry LoadEntry(const std::string& name,
                       const std::optional<config::ModelConfig>& config_override);
  // An ensemble's composing models load before it (when not READY already).
  void LoadComposingModels(const std::string& name,
                           const std::optional<config::ModelConfig>& config_override)
      EXCLUDES(mu_, load_mu_);
  Status EvictFor(const std::string& name, uint64_t needed_bytes) EXCLUDES(mu_);
  void UnloadLocked(ModelEntry& entry, std::string reason, bool reloadable,
                    std::vector<std::shared_ptr<const ServableModel>>& dropped) REQUIRES(mu_);
  std::vector<std::string> ModelDirectories() const;
  // The directory of model `name`: in the first root that has it, else in the first root.
  std::filesystem::path ModelDir(std::string_view name) const;
  std::vector<std::filesystem::path> Roots() const;
  // Brings every source's local copy up to date; one sync at a time.
  void SyncSources() EXCLUDES(sync_mu_);
  void MaintenanceLoop() EXCLUDES(stop_mu_);
  static ModelStatus Summarize(const ModelEntry& entry);
  static std::vector<int64_t> ReadyVersions(const ModelEntry& entry);
  // How an entry's loaded versions are used, for evictions and idle unloads.
  struct Usage {
    bool ready = false;        // a version is loaded
    bool busy = false;         // a request holds a loaded version
    int64_t last_used_ns = 0;  // the latest use of any loaded version (steady clock)
  };
  static Usage UsageOf(const ModelEntry& entry);

  const Options options_;
  // Declared first so it is destroyed last: it waits for every version to be released.
  ModelUnloader unloader_;
  Mutex load_mu_;  // one load at a time: memory estimates (RSS deltas) stay attributable
  mutable Mutex mu_;
  std::map<std::string, ModelEntry, std::less<>> models_ GUARDED_BY(mu_);

  Mutex stop_mu_;
  CondVar stop_cv_;
  bool stopping_ GUARDED_BY(stop_mu_) = false;
  std::thread maintenance_;
  Mutex sync_mu_;  // RepositorySource::Sync is not reentrant: poll and load API may overlap
  std::atomic<bool> started_{false};  // Start's startup loads are done
  // Stopped first in the destructor: a load it runs uses everything above.
  std::unique_ptr<OnDemandLoader> on_demand_;
};

}  // namespace inferd::repository
