// ModelRepository: scans a Triton-layout model repository on disk and owns the lifecycle of
// every model version in it.
//
//   <root>/<model>/config.pbtxt        optional; auto-completed from the model file
//   <root>/<model>/<version>/model.onnx numeric version folders; the version policy picks which
//
// A model that fails to load is recorded UNAVAILABLE with its reason and does not stop the
// others. Called by server::InferenceServer; all methods are thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "core/mutex.h"
#include "repository/model_state.h"
#include "repository/model_unloader.h"
#include "repository/servable_model.h"

namespace inferd::repository {

struct VersionStatus {
  int64_t version = 0;
  ModelState state = ModelState::kUnknown;
  std::string reason;  // why it is not READY; empty when READY
};

struct ModelStatus {
  std::string name;
  ModelState state = ModelState::kUnknown;  // READY if any version is READY
  std::string reason;                       // model-level failure (bad config, no versions)
  std::vector<VersionStatus> versions;      // ascending
};

class ModelRepository {
 public:
  struct Options {
    std::filesystem::path root;            // the repository directory
    backends::Backend* backend = nullptr;  // engine for every model; not owned, must outlive
    unsigned cpu_cores = 0;                // cores to size engine thread pools for; 0 = detect
  };

  static Result<std::unique_ptr<ModelRepository>> Create(const Options& options);

  // Scans the repository and loads every model found. Failures are recorded, not returned.
  void LoadAll() EXCLUDES(mu_);

  // Loads (or reloads) one model from disk. The new versions load beside the old ones, which
  // keep serving until the swap; if nothing of the new load is READY, the old versions stay
  // and the error is returned. NOT_FOUND when the repository has no such model directory.
  Status LoadModel(std::string_view name) EXCLUDES(mu_);
  // Stops serving a model; in-flight requests finish on the versions they hold. The model
  // stays in the index as UNAVAILABLE ("unloaded"). NOT_FOUND for an unknown model.
  Status UnloadModel(std::string_view name) EXCLUDES(mu_);

  // The version that serves a request: `version` > 0 asks for exactly that version, 0 for the
  // highest READY one. NOT_FOUND for an unknown model or version, UNAVAILABLE when the model
  // exists but is not READY.
  Result<std::shared_ptr<const ServableModel>> Get(std::string_view name, int64_t version) const
      EXCLUDES(mu_);

  // Every model's status, sorted by name.
  std::vector<ModelStatus> Index() const EXCLUDES(mu_);
  Result<ModelStatus> GetModelStatus(std::string_view name) const EXCLUDES(mu_);

 private:
  struct VersionEntry {
    VersionStatus status;
    std::shared_ptr<const ServableModel> servable;  // set iff READY
  };
  struct ModelEntry {
    ModelStatus status;  // versions filled from `versions` on read
    std::map<int64_t, VersionEntry> versions;
  };

  explicit ModelRepository(const Options& options) : options_(options) {}
  ModelEntry LoadEntry(const std::string& name);
  void Install(const std::string& name, ModelEntry entry) EXCLUDES(mu_);
  Result<std::shared_ptr<const ServableModel>> LoadVersion(const std::string& name, int64_t version,
                                                           const config::ModelConfig& base);
  static ModelStatus Summarize(const ModelEntry& entry);

  const Options options_;
  // Declared first so it is destroyed last: it waits for every version to be released.
  ModelUnloader unloader_;
  mutable Mutex mu_;
  std::map<std::string, ModelEntry, std::less<>> models_ GUARDED_BY(mu_);
};

}  // namespace inferd::repository
