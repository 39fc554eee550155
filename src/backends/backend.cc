#include "backends/backend.h"

#include <fmt/format.h>

#include "config/auto_complete.h"

namespace inferd::backends {

Status Backend::CompleteConfig(config::ModelConfig& config, const config::ModelSignature& signature,
                               std::string_view model_name) const {
  RETURN_IF_ERROR(config::CompleteAndValidate(config, signature, model_name, {platform(), name()}));
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
