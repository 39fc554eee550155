#include "backends/backend.h"

#include <fmt/format.h>

#include "config/auto_complete.h"

namespace inferd::backends {

int BackendSettings::default_max_batch_size() const {
  auto it = config.find("default-max-batch-size");
  if (it == config.end()) return config::kDefaultMaxBatchSize;
  return std::stoi(it->second);  // checked by ValidateBackendConfig
}

Status Backend::Configure(const BackendSettings& settings) {
  settings_ = settings;
  return Status::Ok();
}

Status Backend::CompleteConfig(config::ModelConfig& config, const config::ModelSignature& signature,
                               std::string_view model_name) const {
  RETURN_IF_ERROR(config::CompleteAndValidate(config, signature, model_name, {platform(), name()},
                                              settings_.default_max_batch_size()));
  if (supports_gpu()) return Status::Ok();
  for (const auto& group : config.instance_group()) {
    if (group.kind() == config::ModelInstanceGroup::KIND_GPU) {
      return InvalidArgument(fmt::format(
          "model '{}': instance_group '{}' has kind KIND_GPU but backend '{}' runs on the CPU "
          "only; use KIND_CPU",
          model_name, group.name(), name()));
    }
  }
  return Status::Ok();
}

}  // namespace inferd::backends
