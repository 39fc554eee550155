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

Result<std::string> InferenceServer::GetModelConfigJson(std::string_view name,
                                                        int64_t version) const {
  ASSIGN_OR_RETURN(auto model, repository_->Get(name, version));
  return config::ModelConfigToJson(model->config());
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
  auto outputs = ValidateRequest((*model)->config(), request);
  if (!outputs.ok()) {
    done(outputs.status());
    return;
  }
  auto payload = std::make_unique<scheduling::InferencePayload>();
  payload->model_version = (*model)->version();
  payload->output_names = std::move(outputs).value();
  payload->enqueue_time = scheduling::SteadyClock::now();
  // The payload pins the model version until the response is delivered.
  payload->done = [pin = *model, done = std::move(done)](Result<InferenceResponse> r) {
    done(std::move(r));
  };
  payload->request = std::move(request);
  (*model)->scheduler().Enqueue(std::move(payload));
}

}  // namespace inferd::server
