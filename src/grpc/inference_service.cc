#include "grpc/inference_service.h"

#include <fmt/format.h>

#include "grpc/grpc_codec.h"
#include "grpc/metadata_messages.h"
#include "grpc/status_mapping.h"
#include "grpc/stream_infer_reactor.h"
#include "grpc/unary_call.h"

namespace inferd::grpc {
namespace {

using security::ApiCategory;

Status RejectRepositoryName(const std::string& repository_name) {
  if (repository_name.empty()) return Status::Ok();
  return Unimplemented(
      fmt::format("repository_name '{}': inferd serves a single repository; leave the field empty",
                  repository_name));
}

}  // namespace

InferenceService::InferenceService(const Options& options, handler::RequestHandler* handler)
    : options_(options), handler_(handler) {}

InferenceService::~InferenceService() = default;

::grpc::ServerUnaryReactor* InferenceService::ServerLive(Ctx* ctx,
                                                         const inference::ServerLiveRequest*,
                                                         inference::ServerLiveResponse* response) {
  auto* call = new UnaryCall(handler_, ctx, "ServerLive");
  if (!call->Admit(ApiCategory::kHealth)) return call;
  response->set_live(handler_->IsLive());
  call->Complete(::grpc::Status::OK);
  return call;
}

::grpc::ServerUnaryReactor* InferenceService::ServerReady(
    Ctx* ctx, const inference::ServerReadyRequest*, inference::ServerReadyResponse* response) {
  auto* call = new UnaryCall(handler_, ctx, "ServerReady");
  if (!call->Admit(ApiCategory::kHealth)) return call;
  response->set_ready(handler_->IsReady());
  call->Complete(::grpc::Status::OK);
  return call;
}

::grpc::ServerUnaryReactor* InferenceService::ModelReady(
    Ctx* ctx, const inference::ModelReadyRequest* request,
    inference::ModelReadyResponse* response) {
  auto* call = new UnaryCall(handler_, ctx, "ModelReady");
  if (!call->Admit(ApiCategory::kHealth)) return call;
  auto version = ParseModelVersion(request->version(), "version");
  if (!version.ok()) {
    call->Complete(ToGrpcStatus(version.status()));
    return call;
  }
  // As Triton's gRPC frontend: ready=false, not an error, for a model that is unknown as well
  // as for one that is not READY.
  response->set_ready(handler_->ModelReady(request->name(), *version).ok());
  call->Complete(::grpc::Status::OK);
  return call;
}

::grpc::ServerUnaryReactor* InferenceService::ServerMetadata(
    Ctx* ctx, const inference::ServerMetadataRequest*,
    inference::ServerMetadataResponse* response) {
  auto* call = new UnaryCall(handler_, ctx, "ServerMetadata");
  if (!call->Admit(ApiCategory::kMetadata)) return call;
  FillServerMetadata(handler_->ServerMetadata(), response);
  call->Complete(::grpc::Status::OK);
  return call;
}

::grpc::ServerUnaryReactor* InferenceService::ModelMetadata(
    Ctx* ctx, const inference::ModelMetadataRequest* request,
    inference::ModelMetadataResponse* response) {
  auto* call = new UnaryCall(handler_, ctx, "ModelMetadata");
  if (!call->Admit(ApiCategory::kMetadata)) return call;
  auto version = ParseModelVersion(request->version(), "version");
  if (!version.ok()) {
    call->Complete(ToGrpcStatus(version.status()));
    return call;
  }
  auto metadata = handler_->ModelMetadata(request->name(), *version);
  if (metadata.ok()) FillModelMetadata(*metadata, response);
  call->Complete(ToGrpcStatus(metadata.status()));
  return call;
}

::grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
InferenceService::ModelStreamInfer(Ctx* ctx) {
  return new StreamInferReactor(handler_, ctx, options_.max_stream_requests_in_flight,
                                options_.payload_logger);
}

::grpc::ServerUnaryReactor* InferenceService::ModelConfig(
    Ctx* ctx, const inference::ModelConfigRequest* request,
    inference::ModelConfigResponse* response) {
  auto* call = new UnaryCall(handler_, ctx, "ModelConfig");
  if (!call->Admit(ApiCategory::kModelConfig)) return call;
  auto version = ParseModelVersion(request->version(), "version");
  if (!version.ok()) {
    call->Complete(ToGrpcStatus(version.status()));
    return call;
  }
  auto config = handler_->ModelConfig(request->name(), *version);
  if (config.ok()) *response->mutable_config() = std::move(config).value();
  call->Complete(ToGrpcStatus(config.status()));
  return call;
}

::grpc::ServerUnaryReactor* InferenceService::ModelStatistics(
    Ctx* ctx, const inference::ModelStatisticsRequest* request,
    inference::ModelStatisticsResponse* response) {
  auto* call = new UnaryCall(handler_, ctx, "ModelStatistics");
  if (!call->Admit(ApiCategory::kStatistics)) return call;
  auto version = ParseModelVersion(request->version(), "version");
  if (!version.ok()) {
    call->Complete(ToGrpcStatus(version.status()));
    return call;
  }
  auto stats = handler_->ModelStatistics(request->name(), *version);
  if (stats.ok()) FillModelStatistics(*stats, response);
  call->Complete(ToGrpcStatus(stats.status()));
  return call;
}

::grpc::ServerUnaryReactor* InferenceService::RepositoryIndex(
    Ctx* ctx, const inference::RepositoryIndexRequest* request,
    inference::RepositoryIndexResponse* response) {
  auto* call = new UnaryCall(handler_, ctx, "RepositoryIndex");
  if (!call->Admit(ApiCategory::kModelRepository)) return call;
  if (Status s = RejectRepositoryName(request->repository_name()); !s.ok()) {
    call->Complete(ToGrpcStatus(s));
    return call;
  }
  FillRepositoryIndex(handler_->RepositoryIndex(request->ready()), response);
  call->Complete(::grpc::Status::OK);
  return call;
}

::grpc::ServerUnaryReactor* InferenceService::RepositoryModelLoad(
    Ctx* ctx, const inference::RepositoryModelLoadRequest* request,
    inference::RepositoryModelLoadResponse*) {
  auto* call = new UnaryCall(handler_, ctx, "RepositoryModelLoad");
  if (!call->Admit(ApiCategory::kModelRepository)) return call;
  Status refused = RejectRepositoryName(request->repository_name());
  if (refused.ok() && request->model_name().empty()) {
    refused = InvalidArgument("model_name is empty");
  }
  std::optional<std::string> config_json;
  for (const auto& [key, value] : request->parameters()) {
    if (!refused.ok()) break;
    if (key == "config" && value.has_string_param()) {
      config_json = value.string_param();
      continue;
    }
    // "file:<version>/<name>" overrides: inferd loads model files from its repository only.
    refused = Unimplemented(
        fmt::format("RepositoryModelLoad parameter '{}' is not supported", key));
  }
  if (!refused.ok()) {
    call->Complete(ToGrpcStatus(refused));
    return call;
  }
  handler_->LoadModel(request->model_name(), std::move(config_json),
                      [call](Status s) { call->Complete(ToGrpcStatus(s)); });
  return call;
}

::grpc::ServerUnaryReactor* InferenceService::RepositoryModelUnload(
    Ctx* ctx, const inference::RepositoryModelUnloadRequest* request,
    inference::RepositoryModelUnloadResponse*) {
  auto* call = new UnaryCall(handler_, ctx, "RepositoryModelUnload");
  if (!call->Admit(ApiCategory::kModelRepository)) return call;
  Status refused = RejectRepositoryName(request->repository_name());
  if (refused.ok() && request->model_name().empty()) {
    refused = InvalidArgument("model_name is empty");
  }
  for (const auto& [key, value] : request->parameters()) {
    if (!refused.ok()) break;
    // Unloading an ensemble leaves its composing models loaded (docs/pipelines.md): accepted,
    // and changes nothing.
    if (key == "unload_dependents" && value.has_bool_param()) continue;
    refused = Unimplemented(
        fmt::format("RepositoryModelUnload parameter '{}' is not supported", key));
  }
  if (!refused.ok()) {
    call->Complete(ToGrpcStatus(refused));
    return call;
  }
  handler_->UnloadModel(request->model_name(),
                        [call](Status s) { call->Complete(ToGrpcStatus(s)); });
  return call;
}

}  // namespace inferd::grpc
