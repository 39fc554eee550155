#include "repository/ensemble_loader.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "config/ensemble_config.h"
#include "config/model_config_parser.h"
#include "config/proto_data_type.h"
#include "repository/version_loader.h"

namespace inferd::repository {
namespace {

namespace fs = std::filesystem;

Status Invalid(const config::ModelConfig& config, std::string_view message) {
  return InvalidArgument(fmt::format("ensemble '{}': {}", config.name(), message));
}

// Depth-first walk over composing ensembles read from disk; `chain` is the path so far.
Status WalkComposition(const ModelDirLookup& model_dir, const config::ModelConfig& config,
                       std::vector<std::string>& chain) {
  const auto& steps = config.ensemble_scheduling().step();
  for (int i = 0; i < steps.size(); ++i) {
    const std::string& model = steps[i].model_name();
    if (std::find(chain.begin(), chain.end(), model) != chain.end()) {
      return Invalid(config, fmt::format("{} makes the ensemble contain itself ({} -> {})",
                                         config::DescribeEnsembleStep(config, i),
                                         fmt::join(chain, " -> "), model));
    }
    std::error_code ec;
    if (model.find('/') != std::string::npos || model == ".." ||
        !fs::is_directory(model_dir(model), ec)) {
      return Invalid(config, fmt::format("{}: model '{}' is not in the model repository",
                                         config::DescribeEnsembleStep(config, i), model));
    }
    auto composing = config::ReadModelConfigFile(model_dir(model) / "config.pbtxt");
    if (!composing.ok() || !config::IsEnsemble(*composing)) continue;
    if (composing->name().empty()) composing->set_name(model);
    chain.push_back(model);
    RETURN_IF_ERROR(WalkComposition(model_dir, *composing, chain));
    chain.pop_back();
  }
  return Status::Ok();
}

template <typename Spec>
const Spec* FindTensor(const google::protobuf::RepeatedPtrField<Spec>& specs,
                       std::string_view name) {
  for (const auto& s : specs) {
    if (s.name() == name) return &s;
  }
  return nullptr;
}

// One step against its loaded composing model: the mapped names exist there, tensors that are
// the ensemble's own inputs or outputs have the same data type on both sides, and a batching
// ensemble only runs batching models (its requests carry the batch dimension).
Status CheckStep(const config::ModelConfig& ensemble, int index, const config::ModelConfig& model) {
  const auto& step = ensemble.ensemble_scheduling().step(index);
  const std::string what = config::DescribeEnsembleStep(ensemble, static_cast<size_t>(index));
  if (ensemble.max_batch_size() > 0 && model.max_batch_size() < ensemble.max_batch_size()) {
    return Invalid(ensemble, fmt::format("{} has max_batch_size {}, below the ensemble's {}", what,
                                         model.max_batch_size(), ensemble.max_batch_size()));
  }
  for (const auto& [model_tensor, ensemble_tensor] : step.input_map()) {
    const auto* in = FindTensor(model.input(), model_tensor);
    if (!in) {
      return Invalid(ensemble, fmt::format("{} maps input '{}', which the model does not have",
                                           what, model_tensor));
    }
    const auto* outer = FindTensor(ensemble.input(), ensemble_tensor);
    if (outer && outer->data_type() != in->data_type()) {
      return Invalid(
          ensemble,
          fmt::format("{}: ensemble input '{}' is {} but model input '{}' "
                      "is {}",
                      what, ensemble_tensor, config::ProtoDataTypeName(outer->data_type()),
                      model_tensor, config::ProtoDataTypeName(in->data_type())));
    }
  }
  for (const auto& [model_tensor, ensemble_tensor] : step.output_map()) {
    const auto* out = FindTensor(model.output(), model_tensor);
    if (!out) {
      return Invalid(ensemble, fmt::format("{} maps output '{}', which the model does not have",
                                           what, model_tensor));
    }
    const auto* outer = FindTensor(ensemble.output(), ensemble_tensor);
    if (outer && outer->data_type() != out->data_type()) {
      return Invalid(
          ensemble,
          fmt::format("{}: ensemble output '{}' is {} but model output '{}' "
                      "is {}",
                      what, ensemble_tensor, config::ProtoDataTypeName(outer->data_type()),
                      model_tensor, config::ProtoDataTypeName(out->data_type())));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> EnsembleComposingModels(const ModelDirLookup& model_dir,
                                                         const config::ModelConfig& config) {
  std::vector<std::string> chain{config.name()};
  RETURN_IF_ERROR(WalkComposition(model_dir, config, chain));
  std::vector<std::string> models;
  for (const auto& step : config.ensemble_scheduling().step()) {
    if (std::find(models.begin(), models.end(), step.model_name()) == models.end()) {
      models.push_back(step.model_name());
    }
  }
  return models;
}

Result<std::unique_ptr<ServableModel>> LoadEnsembleVersion(const fs::path& model_dir,
                                                           const std::string& name, int64_t version,
                                                           config::ModelConfig config,
                                                           const EnsembleLoadOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  if (config.name().empty()) config.set_name(name);
  if (config.name() != name) {
    return InvalidArgument(
        fmt::format("model '{}': config.pbtxt names the model '{}'", name, config.name()));
  }
  RETURN_IF_ERROR(config::ValidateEnsembleConfig(config));
  const auto& steps = config.ensemble_scheduling().step();
  for (int i = 0; i < steps.size(); ++i) {
    const int64_t wanted = std::max<int64_t>(0, steps[i].model_version());
    auto model = options.composing_model(steps[i].model_name(), wanted);
    if (!model.ok()) {
      return Invalid(config,
                     fmt::format("{} cannot run: {}", config::DescribeEnsembleStep(config, i),
                                 model.status().message()));
    }
    RETURN_IF_ERROR(CheckStep(config, i, (*model)->config()));
  }
  ASSIGN_OR_RETURN(OutputLabels labels, ReadOutputLabels(config, model_dir));
  ASSIGN_OR_RETURN(auto scheduler, scheduling::EnsembleScheduler::Create(
                                       {.config = config, .run_step = options.run_step}));
  spdlog::info("model '{}' version {}: ensemble of {} step(s)", name, version, steps.size());
  LoadCost cost;
  cost.load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return std::make_unique<ServableModel>(name, version, std::move(config), std::move(scheduler),
                                         cost, std::move(labels));
}

}  // namespace inferd::repository
