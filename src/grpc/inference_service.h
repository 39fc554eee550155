// InferenceService: the GRPCInferenceService RPCs on grpc++'s callback API, each one a call to
// the InferenceServer facade. Nothing here blocks a gRPC thread on inference: ModelInfer and
// ModelStreamInfer finish from the facade's completion callback; repository load/unload runs on
// a control thread of its own. Created and registered by GrpcServer; thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <thread>

#include "core/mutex.h"
#include "grpc/grpc_service.grpc.pb.h"
#include "security/authorizer.h"
#include "security/rate_limiter.h"
#include "server/inference_server.h"

namespace inferd::grpc {

class InferenceService final : public inference::GRPCInferenceService::CallbackService {
 public:
  struct Options {
    int max_stream_requests_in_flight = 64;  // per ModelStreamInfer stream; reading pauses at it
    // Checks each call's `authorization` metadata (and restriction headers); not owned, must
    // outlive the service; null = every call is allowed.
    const security::Authorizer* authorizer = nullptr;
    // Per-client call rate (RESOURCE_EXHAUSTED + `retry-after`); not owned; null = no limit.
    security::RateLimiter* rate_limiter = nullptr;
  };

  // `server` is not owned and must outlive this service (and the ::grpc::Server it serves on).
  InferenceService(const Options& options, server::InferenceServer* server);
  // Finishes the control work already queued, then joins the control thread.
  ~InferenceService() override;

  using Ctx = ::grpc::CallbackServerContext;
  using Reactor = ::grpc::ServerUnaryReactor;

  Reactor* ServerLive(Ctx* ctx, const inference::ServerLiveRequest* request,
                      inference::ServerLiveResponse* response) override;
  Reactor* ServerReady(Ctx* ctx, const inference::ServerReadyRequest* request,
                       inference::ServerReadyResponse* response) override;
  Reactor* ModelReady(Ctx* ctx, const inference::ModelReadyRequest* request,
                      inference::ModelReadyResponse* response) override;
  Reactor* ServerMetadata(Ctx* ctx, const inference::ServerMetadataRequest* request,
                          inference::ServerMetadataResponse* response) override;
  Reactor* ModelMetadata(Ctx* ctx, const inference::ModelMetadataRequest* request,
                         inference::ModelMetadataResponse* response) override;
  Reactor* ModelInfer(Ctx* ctx, const inference::ModelInferRequest* request,
                      inference::ModelInferResponse* response) override;
  ::grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
  ModelStreamInfer(Ctx* ctx) override;
  Reactor* ModelConfig(Ctx* ctx, const inference::ModelConfigRequest* request,
                       inference::ModelConfigResponse* response) override;
  Reactor* ModelStatistics(Ctx* ctx, const inference::ModelStatisticsRequest* request,
                           inference::ModelStatisticsResponse* response) override;
  Reactor* RepositoryIndex(Ctx* ctx, const inference::RepositoryIndexRequest* request,
                           inference::RepositoryIndexResponse* response) override;
  Reactor* RepositoryModelLoad(Ctx* ctx, const inference::RepositoryModelLoadRequest* request,
                               inference::RepositoryModelLoadResponse* response) override;
  Reactor* RepositoryModelUnload(Ctx* ctx, const inference::RepositoryModelUnloadRequest* request,
                                 inference::RepositoryModelUnloadResponse* response) override;

 private:
  // The status to finish a call with when its credentials do not cover `api` or its client is
  // over the rate limit; OK to go on.
  ::grpc::Status Admit(::grpc::ServerContextBase* ctx, security::ApiCategory api) const;

  // Runs `job` on the control thread, in submission order.
  void RunOnControlThread(std::function<void()> job) EXCLUDES(control_mu_);
  void ControlLoop() EXCLUDES(control_mu_);

  const Options options_;
  server::InferenceServer* const server_;
  std::unique_ptr<
      ::grpc::MessageAllocator<inference::ModelInferRequest, inference::ModelInferResponse>>
      infer_allocator_;

  Mutex control_mu_;
  CondVar control_cv_;
  std::deque<std::function<void()>> control_jobs_ GUARDED_BY(control_mu_);
  bool control_stop_ GUARDED_BY(control_mu_) = false;
  std::thread control_thread_;
};

}  // namespace inferd::grpc
