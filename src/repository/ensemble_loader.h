// Loading an ensemble (platform "ensemble"): the checks that need the rest of the repository
// and the ServableModel whose scheduler is an EnsembleScheduler. The repository calls
// EnsembleComposingModels before an ensemble loads (to load its composing models first and to
// refuse ensembles that contain themselves), then LoadEnsembleVersion once they are loaded.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/model_config.pb.h"
#include "repository/servable_model.h"
#include "scheduling/ensemble_scheduler.h"

namespace inferd::repository {

// Where a model's folder is: the first repository that holds it (ModelRepository::ModelDir).
using ModelDirLookup = std::function<std::filesystem::path(std::string_view name)>;

// The models the ensemble's steps run, in step order without repeats. Composing models that
// are ensembles themselves are read from their folders (`model_dir`) and followed;
// INVALID_ARGUMENT names the chain when an ensemble ends up containing itself, or a step whose
// model is not in the repository.
Result<std::vector<std::string>> EnsembleComposingModels(const ModelDirLookup& model_dir,
                                                         const config::ModelConfig& config);

struct EnsembleLoadOptions {
  // How steps reach their composing models at run time (the server's Infer); required.
  scheduling::StepRunner run_step;
  // The READY version of a composing model (version 0: the one its routing serves), to check
  // each step's tensor names, data types and batching against at load time.
  std::function<Result<std::shared_ptr<const ServableModel>>(const std::string&, int64_t)>
      composing_model;
};

// `config` is the ensemble's config.pbtxt as parsed; the name is filled in when absent.
Result<std::unique_ptr<ServableModel>> LoadEnsembleVersion(const std::filesystem::path& model_dir,
                                                           const std::string& name, int64_t version,
                                                           config::ModelConfig config,
                                                           const EnsembleLoadOptions& options);

}  // namespace inferd::repository
