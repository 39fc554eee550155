// InferenceService: the GRPCInferenceService RPCs, each one a call to handler::RequestHandler
// (admission, tracing, access log, cancellation and the server facade), which it reads from and
// writes to protobuf messages. ModelInfer is served on grpc++'s async completion-queue API by
// InferPollers' threads (AsyncInferCall: no hop to grpc++'s callback threads, the hot path);
// every other RPC on the callback API. Nothing here blocks a gRPC thread on inference:
// ModelStreamInfer finishes from the completion callback; repository load/unload runs on the
// handler's control thread. Created and registered by GrpcServer; thread-safe.
#pragma once

#include <memory>

#include "grpc/grpc_service.grpc.pb.h"
#include "handler/request_handler.h"

namespace inferd::observability {
class PayloadLogger;
}

namespace inferd::grpc {

using Generated = inference::GRPCInferenceService;

// grpc++'s generated CallbackService with ModelInfer marked async. Spelled out because the
// async mark must come first: marking a callback method async afterwards keeps its callback
// handler (grpc 1.51's RpcServiceMethod::SetServerApiType), and the server would register it
// as a callback method.
using ServiceBase = Generated::WithCallbackMethod_ServerLive<
    Generated::WithCallbackMethod_ServerReady<Generated::WithCallbackMethod_ModelReady<
        Generated::WithCallbackMethod_ServerMetadata<Generated::WithCallbackMethod_ModelMetadata<
            Generated::WithCallbackMethod_ModelStreamInfer<
                Generated::WithCallbackMethod_ModelConfig<
                    Generated::WithCallbackMethod_ModelStatistics<
                        Generated::WithCallbackMethod_RepositoryIndex<
                            Generated::WithCallbackMethod_RepositoryModelLoad<
                                Generated::WithCallbackMethod_RepositoryModelUnload<
                                    Generated::WithCallbackMethod_SystemSharedMemoryStatus<
                                        Generated::WithCallbackMethod_SystemSharedMemoryRegister<
                                            Generated::
                                                WithCallbackMethod_SystemSharedMemoryUnregister<
                                                    Generated::WithCallbackMethod_TraceSetting<
                                                        Generated::WithAsyncMethod_ModelInfer<
                                                            Generated::Service>>>>>>>>>>>>>>>>;

class InferenceService final : public ServiceBase {
 public:
  struct Options {
    int max_stream_requests_in_flight = 64;  // per ModelStreamInfer stream; reading pauses at it
    // Payload logging of ModelInfer / ModelStreamInfer; not owned; null = none.
    observability::PayloadLogger* payload_logger = nullptr;
  };

  // `handler` is not owned and must outlive this service (and the ::grpc::Server it serves on).
  InferenceService(const Options& options, handler::RequestHandler* handler);
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
  // System shared memory and trace settings (inference_service_extensions.cc).
  Reactor* SystemSharedMemoryStatus(Ctx* ctx,
                                    const inference::SystemSharedMemoryStatusRequest* request,
                                    inference::SystemSharedMemoryStatusResponse* response) override;
  Reactor* SystemSharedMemoryRegister(
      Ctx* ctx, const inference::SystemSharedMemoryRegisterRequest* request,
      inference::SystemSharedMemoryRegisterResponse* response) override;
  Reactor* SystemSharedMemoryUnregister(
      Ctx* ctx, const inference::SystemSharedMemoryUnregisterRequest* request,
      inference::SystemSharedMemoryUnregisterResponse* response) override;
  Reactor* TraceSetting(Ctx* ctx, const inference::TraceSettingRequest* request,
                        inference::TraceSettingResponse* response) override;

 private:
  const Options options_;
  handler::RequestHandler* const handler_;
};

}  // namespace inferd::grpc
