#include "server/inference_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "backends/onnxruntime/onnxruntime_backend.h"
#include "config/model_config.h"
#include "server/request_validator.h"
#include "server/version.h"

namespace inferd::server {
namespace {

template <typename Spec>
TensorMetadata ToMetadata(const config::ModelConfig& cfg, const Spec& spec) {
  TensorMetadata m;
  m.name = spec.name();
  m.dtype = config::FromProtoDataType(spec.data_type());
  m.shape = config::FullDims(cfg, spec.dims());
  return m;
}

}  // namespace

Result<std::unique_ptr<InferenceServer>> InferenceServer::Create(const Options& options) {
  std::unique_ptr<InferenceServer> server(new InferenceServer());
  ASSIGN_OR_RETURN(server->backend_, backends::CreateOnnxRuntimeBackend());
  spdlog::info("backend {} (onnxruntime {})", server->backend_->name(),
               server->backend_->version());
  repository::ModelRepository::Options repo_options;
  repo_options.root = options.model_repository;
  repo_options.backend = server->backend_.get();
  repo_options.cpu_cores = options.cpu_cores;
  ASSIGN_OR_RETURN(server->repository_, repository::ModelRepository::Create(repo_options));
  server->repository_->LoadAll();
  return server;
}

InferenceServer::~InferenceServer() {
  // Models (and their worker threads) go before the engine they run on.
  repository_.reset();
  backend_.reset();
}

bool InferenceServer::IsLive() const { return true; }

bool InferenceServer::IsReady() const { return repository_ != nullptr; }

ServerMetadata InferenceServer::Metadata() const {
  return ServerMetadata{"inferd", std::string(kVersion), {"binary_tensor_data"}};
}

Result<ModelMetadata> InferenceServer::GetModelMetadata(std::string_view name,
                                                        int64_t version) const {
  ASSIGN_OR_RETURN(auto model, repository_->Get(name, version));
  ASSIGN_OR_RETURN(auto status, repository_->GetModelStatus(name));
  const config::ModelConfig& cfg = model->config();
  ModelMetadata m;
  m.name = model->name();
  for (const auto& v : status.versions) {
    if (v.state == repository::ModelState::kReady) m.versions.push_back(v.version);
  }
  m.platform = cfg.platform();
  for (const auto& in : cfg.input()) m.inputs.push_back(ToMetadata(cfg, in));
  for (const auto& out : cfg.output()) m.outputs.push_back(ToMetadata(cfg, out));
  return m;
}

Result<config::ModelConfig> InferenceServer::GetModelConfig(std::string_view name,
                                                            int64_t version) const {
  ASSIGN_OR_RETURN(auto model, repository_->Get(name, version));
  return model->config();
}

Result<std::string> InferenceServer::GetModelConfigJson(std::string_view name,
                                                        int64_t version) const {
  ASSIGN_OR_RETURN(auto model, repository_->Get(name, version));
  return config::ModelConfigToJson(model->config());
}

Status InferenceServer::LoadModel(std::string_view name) { return repository_->LoadModel(name); }

Status InferenceServer::UnloadModel(std::string_view name) {
  return repository_->UnloadModel(name);
}

Result<std::vector<ModelStatistics>> InferenceServer::GetModelStatistics(std::string_view name,
                                                                         int64_t version) const {
  std::vector<repository::ModelStatus> models;
  if (name.empty()) {
    models = repository_->Index();
  } else {
    ASSIGN_OR_RETURN(auto status, repository_->GetModelStatus(name));
    models.push_back(std::move(status));
  }
  std::vector<ModelStatistics> out;
  for (const auto& m : models) {
    for (const auto& v : m.versions) {
      if (version > 0 && v.version != version) continue;
      auto model = repository_->Get(m.name, v.version);
      if (!model.ok()) continue;  // not READY: no statistics
      const metrics::InferenceStatsSnapshot s = (*model)->stats().Snapshot();
      ModelStatistics st;
      st.name = m.name;
      st.version = v.version;
      st.last_inference_ms = s.last_inference_ms;
      st.inference_count = s.inference_count;
      st.execution_count = s.execution_count;
      st.success = s.success;
      st.fail = s.fail;
      st.queue = s.queue;
      st.compute_input = s.compute_input;
      st.compute_infer = s.compute_infer;
      st.compute_output = s.compute_output;
      out.push_back(std::move(st));
    }
  }
  if (!name.empty() && version > 0 && out.empty()) {
    return NotFound(fmt::format("model '{}' has no READY version {}", name, version));
  }
  return out;
}

Status InferenceServer::ModelReady(std::string_view name, int64_t version) const {
  auto model = repository_->Get(name, version);
  return model.ok() ? Status::Ok() : model.status();
}

std::vector<repository::ModelStatus> InferenceServer::RepositoryIndex() const {
  return repository_->Index();
}

void InferenceServer::Infer(InferenceRequest request, InferCallback done) {
  auto model = repository_->Get(request.model_name, request.model_version);
  if (!model.ok()) {
    done(model.status());
    return;
  }
  const auto received = scheduling::SteadyClock::now();
  auto validated = ValidateRequest((*model)->config(), request);
  if (!validated.ok()) {
    (*model)->stats().RecordFailure(0);
    done(validated.status());
    return;
  }
  auto payload = std::make_unique<scheduling::InferencePayload>();
  payload->model_version = (*model)->version();
  payload->output_names = std::move(validated->output_names);
  payload->batch_size = validated->batch_size;
  payload->enqueue_time = received;
  payload->stats = &(*model)->stats();
  // The payload pins the model version until the response is delivered.
  payload->done = [pin = *model, done = std::move(done)](Result<InferenceResponse> r) {
    done(std::move(r));
  };
  payload->request = std::move(request);
  (*model)->scheduler().Enqueue(std::move(payload));
}

}  // namespace inferd::server
