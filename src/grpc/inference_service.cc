#include "grpc/inference_service.h"

#include <fmt/format.h>

#include "grpc/grpc_codec.h"
#include "grpc/metadata_messages.h"
#include "grpc/status_mapping.h"
#include "grpc/stream_infer_reactor.h"

namespace inferd::grpc {
namespace {

using InferRequest = inference::ModelInferRequest;
using InferResponse = inference::ModelInferResponse;

// Owns a ModelInfer call's messages, the request through a shared_ptr: decoded tensors borrow
// raw_input_contents from it and keep it alive for as long as they live, even past the RPC.
class InferMessageHolder final : public ::grpc::MessageHolder<InferRequest, InferResponse> {
 public:
  InferMessageHolder() : request_(std::make_shared<InferRequest>()) {
    set_request(request_.get());
    set_response(&response_);
  }
  void Release() override { delete this; }
  std::shared_ptr<const InferRequest> shared_request() const { return request_; }

 private:
  std::shared_ptr<InferRequest> request_;
  InferResponse response_;
};

class InferMessageAllocator final : public ::grpc::MessageAllocator<InferRequest, InferResponse> {
 public:
  ::grpc::MessageHolder<InferRequest, InferResponse>* AllocateMessages() override {
    return new InferMessageHolder();  // deleted by its Release(), when the RPC is done
  }
};

// Finishes a unary call at once with a gRPC status.
::grpc::ServerUnaryReactor* FinishWith(::grpc::CallbackServerContext* ctx,
                                       const ::grpc::Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

// Finishes a unary call at once with `status`.
::grpc::ServerUnaryReactor* FinishNow(::grpc::CallbackServerContext* ctx, const Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

Status RejectRepositoryName(const std::string& repository_name) {
  if (repository_name.empty()) return Status::Ok();
  return Unimplemented(
      fmt::format("repository_name '{}': inferd serves a single repository; leave the field empty",
                  repository_name));
}

// A ModelStreamInfer call refused before it starts: finishes at once with `status`.
class RejectedStreamReactor final
    : public ::grpc::ServerBidiReactor<InferRequest, inference::ModelStreamInferResponse> {
 public:
  explicit RejectedStreamReactor(const ::grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

// The address of a gRPC peer as the HTTP frontend writes it, so both count against one
// rate limit bucket: "ipv4:127.0.0.1:5555" → "127.0.0.1", "ipv6:[::1]:5555" → "::1".
std::string PeerAddress(std::string_view peer) {
  for (std::string_view scheme : {"ipv4:", "ipv6:"}) {
    if (peer.substr(0, scheme.size()) == scheme) peer.remove_prefix(scheme.size());
  }
  if (size_t colon = peer.rfind(':'); colon != std::string_view::npos) {
    peer = peer.substr(0, colon);
  }
  std::string out(peer);
  for (std::string_view bracket : {"%5B", "%5D", "[", "]"}) {
    for (size_t at; (at = out.find(bracket)) != std::string::npos;) out.erase(at, bracket.size());
  }
  return out;
}

}  // namespace

::grpc::Status InferenceService::Admit(::grpc::ServerContextBase* ctx,
                                       security::ApiCategory api) const {
  const auto& metadata = ctx->client_metadata();
  auto header = [&metadata](std::string_view name) -> std::optional<std::string_view> {
    // gRPC metadata keys arrive in lower case, as the Authorizer asks for them.
    auto it = metadata.find(::grpc::string_ref(name.data(), name.size()));
    if (it == metadata.end()) return std::nullopt;
    return std::string_view(it->second.data(), it->second.size());
  };
  const security::Authorizer* auth = options_.authorizer;
  if (auth != nullptr && auth->enabled()) {
    auto decision = auth->Check(api, header);
    if (!decision.allowed()) {
      return ::grpc::Status(decision.outcome == security::AuthOutcome::kUnauthenticated
                                ? ::grpc::StatusCode::UNAUTHENTICATED
                                : ::grpc::StatusCode::PERMISSION_DENIED,
                            decision.message);
    }
  }
  security::RateLimiter* limiter = options_.rate_limiter;
  if (limiter == nullptr || !limiter->enabled() || api == security::ApiCategory::kHealth) {
    return ::grpc::Status::OK;
  }
  // The token when tokens are asked for (checked above), else the peer's address.
  std::string client;
  if (auto token = header("authorization"); token && auth != nullptr && auth->uses_tokens()) {
    client = fmt::format("token:{}", *token);
  } else {
    client = "ip:" + PeerAddress(ctx->peer());
  }
  const int64_t retry_s = limiter->Acquire(client, security::RateLimiter::Clock::now());
  if (retry_s == 0) return ::grpc::Status::OK;
  ctx->AddTrailingMetadata("retry-after", std::to_string(retry_s));
  return ::grpc::Status(::grpc::StatusCode::RESOURCE_EXHAUSTED,
                        fmt::format("rate limit exceeded; retry after {} s", retry_s));
}

InferenceService::InferenceService(const Options& options, server::InferenceServer* server)
    : options_(options), server_(server), infer_allocator_(new InferMessageAllocator()) {
  SetMessageAllocatorFor_ModelInfer(infer_allocator_.get());
  control_thread_ = std::thread([this] { ControlLoop(); });
}

InferenceService::~InferenceService() {
  {
    MutexLock lock(control_mu_);
    control_stop_ = true;
  }
  control_cv_.NotifyAll();
  control_thread_.join();
}

void InferenceService::RunOnControlThread(std::function<void()> job) {
  {
    MutexLock lock(control_mu_);
    control_jobs_.push_back(std::move(job));
  }
  control_cv_.NotifyOne();
}

void InferenceService::ControlLoop() {
  for (;;) {
    std::function<void()> job;
    {
      MutexLock lock(control_mu_);
      control_cv_.Wait(control_mu_, [this]() REQUIRES(control_mu_) {
        return control_stop_ || !control_jobs_.empty();
      });
      if (control_jobs_.empty()) return;  // stopping, and nothing left to do
      job = std::move(control_jobs_.front());
      control_jobs_.pop_front();
    }
    job();
  }
}

::grpc::ServerUnaryReactor* InferenceService::ServerLive(Ctx* ctx,
                                                         const inference::ServerLiveRequest*,
                                                         inference::ServerLiveResponse* response) {
  if (auto denied = Admit(ctx, security::ApiCategory::kHealth); !denied.ok()) {
    return FinishWith(ctx, denied);
  }
  response->set_live(server_->IsLive());
  return FinishNow(ctx, Status::Ok());
}

::grpc::ServerUnaryReactor* InferenceService::ServerReady(
    Ctx* ctx, const inference::ServerReadyRequest*, inference::ServerReadyResponse* response) {
  if (auto denied = Admit(ctx, security::ApiCategory::kHealth); !denied.ok()) {
    return FinishWith(ctx, denied);
  }
  response->set_ready(server_->IsReady());
  return FinishNow(ctx, Status::Ok());
}

::grpc::ServerUnaryReactor* InferenceService::ModelReady(
    Ctx* ctx, const inference::ModelReadyRequest* request,
    inference::ModelReadyResponse* response) {
  if (auto denied = Admit(ctx, security::ApiCategory::kHealth); !denied.ok()) {
    return FinishWith(ctx, denied);
  }
  auto version = ParseModelVersion(request->version(), "version");
  if (!version.ok()) return FinishNow(ctx, version.status());
  // As Triton's gRPC frontend: ready=false, not an error, for a model that is unknown as well
  // as for one that is not READY.
  response->set_ready(server_->ModelReady(request->name(), *version).ok());
  return FinishNow(ctx, Status::Ok());
}

::grpc::ServerUnaryReactor* InferenceService::ServerMetadata(
    Ctx* ctx, const inference::ServerMetadataRequest*,
    inference::ServerMetadataResponse* response) {
  if (auto denied = Admit(ctx, security::ApiCategory::kMetadata); !denied.ok()) {
    return FinishWith(ctx, denied);
  }
  FillServerMetadata(server_->Metadata(), response);
  return FinishNow(ctx, Status::Ok());
}

::grpc::ServerUnaryReactor* InferenceService::ModelMetadata(
    Ctx* ctx, const inference::ModelMetadataRequest* request,
    inference::ModelMetadataResponse* response) {
  if (auto denied = Admit(ctx, security::ApiCategory::kMetadata); !denied.ok()) {
    return FinishWith(ctx, denied);
  }
  auto version = ParseModelVersion(request->version(), "version");
  if (!version.ok()) return FinishNow(ctx, version.status());
  auto metadata = server_->GetModelMetadata(request->name(), *version);
  if (!metadata.ok()) return FinishNow(ctx, metadata.status());
  FillModelMetadata(*metadata, response);
  return FinishNow(ctx, Status::Ok());
}

::grpc::ServerUnaryReactor* InferenceService::ModelInfer(Ctx* ctx, const InferRequest* request,
                                                         InferResponse* response) {
  if (auto denied = Admit(ctx, security::ApiCategory::kInference); !denied.ok()) {
    return FinishWith(ctx, denied);
  }
  std::shared_ptr<const InferRequest> message;
  if (auto* holder = dynamic_cast<InferMessageHolder*>(ctx->GetRpcAllocatorState())) {
    message = holder->shared_request();
  } else {
    message = std::make_shared<InferRequest>(*request);  // no allocator: keep a copy
  }
  auto decoded = DecodeModelInferRequest(std::move(message));
  if (!decoded.ok()) return FinishNow(ctx, decoded.status());

  auto* reactor = ctx->DefaultReactor();
  // Runs on a model worker (or here, for errors found before queueing); the reactor and the
  // response message stay valid until Finish.
  server_->Infer(std::move(decoded).value(), [reactor, response](Result<InferenceResponse> result) {
    if (!result.ok()) {
      reactor->Finish(ToGrpcStatus(result.status()));
      return;
    }
    EncodeModelInferResponse(*result, response);
    reactor->Finish(::grpc::Status::OK);
  });
  return reactor;
}

::grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
InferenceService::ModelStreamInfer(Ctx* ctx) {
  if (auto denied = Admit(ctx, security::ApiCategory::kInference); !denied.ok()) {
    return new RejectedStreamReactor(denied);  // deletes itself in OnDone
  }
  return new StreamInferReactor(server_, options_.max_stream_requests_in_flight);
}

::grpc::ServerUnaryReactor* InferenceService::ModelConfig(
    Ctx* ctx, const inference::ModelConfigRequest* request,
    inference::ModelConfigResponse* response) {
  if (auto denied = Admit(ctx, security::ApiCategory::kModelConfig); !denied.ok()) {
    return FinishWith(ctx, denied);
  }
  auto version = ParseModelVersion(request->version(), "version");
  if (!version.ok()) return FinishNow(ctx, version.status());
  auto config = server_->GetModelConfig(request->name(), *version);
  if (!config.ok()) return FinishNow(ctx, config.status());
  *response->mutable_config() = std::move(config).value();
  return FinishNow(ctx, Status::Ok());
}

::grpc::ServerUnaryReactor* InferenceService::ModelStatistics(
    Ctx* ctx, const inference::ModelStatisticsRequest* request,
    inference::ModelStatisticsResponse* response) {
  if (auto denied = Admit(ctx, security::ApiCategory::kStatistics); !denied.ok()) {
    return FinishWith(ctx, denied);
  }
  auto version = ParseModelVersion(request->version(), "version");
  if (!version.ok()) return FinishNow(ctx, version.status());
  auto stats = server_->GetModelStatistics(request->name(), *version);
  if (!stats.ok()) return FinishNow(ctx, stats.status());
  FillModelStatistics(*stats, response);
  return FinishNow(ctx, Status::Ok());
}

::grpc::ServerUnaryReactor* InferenceService::RepositoryIndex(
    Ctx* ctx, const inference::RepositoryIndexRequest* request,
    inference::RepositoryIndexResponse* response) {
  if (auto denied = Admit(ctx, security::ApiCategory::kModelRepository); !denied.ok()) {
    return FinishWith(ctx, denied);
  }
  if (Status s = RejectRepositoryName(request->repository_name()); !s.ok()) {
    return FinishNow(ctx, s);
  }
  FillRepositoryIndex(server_->RepositoryIndex(), request->ready(), response);
  return FinishNow(ctx, Status::Ok());
}

::grpc::ServerUnaryReactor* InferenceService::RepositoryModelLoad(
    Ctx* ctx, const inference::RepositoryModelLoadRequest* request,
    inference::RepositoryModelLoadResponse*) {
  if (auto denied = Admit(ctx, security::ApiCategory::kModelRepository); !denied.ok()) {
    return FinishWith(ctx, denied);
  }
  if (Status s = RejectRepositoryName(request->repository_name()); !s.ok()) {
    return FinishNow(ctx, s);
  }
  if (request->model_name().empty()) return FinishNow(ctx, InvalidArgument("model_name is empty"));
  std::optional<std::string> config_json;
  for (const auto& [key, value] : request->parameters()) {
    if (key == "config" && value.has_string_param()) {
      config_json = value.string_param();
      continue;
    }
    // "file:<version>/<name>" overrides: inferd loads model files from its repository only.
    return FinishNow(
        ctx, Unimplemented(fmt::format("RepositoryModelLoad parameter '{}' is not supported",
                                       key)));
  }
  auto* reactor = ctx->DefaultReactor();
  // Loading builds engine sessions (slow): off the gRPC threads.
  RunOnControlThread([this, reactor, name = request->model_name(),
                      config_json = std::move(config_json)] {
    reactor->Finish(ToGrpcStatus(server_->LoadModel(name, config_json)));
  });
  return reactor;
}

::grpc::ServerUnaryReactor* InferenceService::RepositoryModelUnload(
    Ctx* ctx, const inference::RepositoryModelUnloadRequest* request,
    inference::RepositoryModelUnloadResponse*) {
  if (auto denied = Admit(ctx, security::ApiCategory::kModelRepository); !denied.ok()) {
    return FinishWith(ctx, denied);
  }
  if (Status s = RejectRepositoryName(request->repository_name()); !s.ok()) {
    return FinishNow(ctx, s);
  }
  if (request->model_name().empty()) return FinishNow(ctx, InvalidArgument("model_name is empty"));
  for (const auto& [key, value] : request->parameters()) {
    // inferd has no ensembles, so there are no dependents to unload: the flag changes nothing.
    if (key == "unload_dependents" && value.has_bool_param()) continue;
    return FinishNow(ctx, Unimplemented(fmt::format(
                              "RepositoryModelUnload parameter '{}' is not supported", key)));
  }
  auto* reactor = ctx->DefaultReactor();
  RunOnControlThread([this, reactor, name = request->model_name()] {
    reactor->Finish(ToGrpcStatus(server_->UnloadModel(name)));
  });
  return reactor;
}

}  // namespace inferd::grpc
