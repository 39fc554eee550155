#include "batch/in_process_engine.h"

#include <fmt/format.h>

namespace inferd::batch {

ModelSpec SpecFromMetadata(const server::ModelMetadata& metadata, int64_t max_batch_size) {
  ModelSpec spec;
  spec.name = metadata.name;
  spec.max_batch_size = max_batch_size;
  for (const server::TensorMetadata& input : metadata.inputs) {
    Shape row_shape = input.shape;
    if (max_batch_size > 0 && !row_shape.empty()) row_shape.erase(row_shape.begin());
    spec.inputs.push_back({input.name, input.dtype, std::move(row_shape)});
  }
  for (const server::TensorMetadata& output : metadata.outputs) spec.outputs.push_back(output.name);
  return spec;
}

Result<std::unique_ptr<InProcessEngine>> InProcessEngine::Create(
    server::InferenceServer::Options options, const std::string& model) {
  options.control_mode = repository::ControlMode::kExplicit;
  options.startup_models = {model};
  ASSIGN_OR_RETURN(auto server, server::InferenceServer::Create(options));
  if (Status ready = server->ModelReady(model, 0); !ready.ok()) {
    std::string reason;
    for (const auto& status : server->RepositoryIndex()) {
      if (status.name == model && !status.reason.empty()) reason = ": " + status.reason;
    }
    return ready.code() == StatusCode::kNotFound && reason.empty()
               ? NotFound(fmt::format("no model '{}' in the repository", model))
               : Unavailable(fmt::format("model '{}' did not load{}", model, reason));
  }
  return std::unique_ptr<InProcessEngine>(new InProcessEngine(std::move(server)));
}

InProcessEngine::~InProcessEngine() { server_->StopModels(); }

Result<ModelSpec> InProcessEngine::Describe(const std::string& model) {
  ASSIGN_OR_RETURN(server::ModelMetadata metadata, server_->GetModelMetadata(model, 0));
  ASSIGN_OR_RETURN(config::ModelConfig config, server_->GetModelConfig(model, 0));
  return SpecFromMetadata(metadata, config.max_batch_size());
}

void InProcessEngine::Infer(InferenceRequest request, Done done) {
  server_->Infer(std::move(request), std::move(done));
}

}  // namespace inferd::batch
