// InferenceService: the GRPCInferenceService RPCs on grpc++'s callback API, each one a call to
// handler::RequestHandler (admission, tracing, access log, cancellation and the server facade),
// which it reads from and writes to protobuf messages. Nothing here blocks a gRPC thread on
// inference: ModelInfer and ModelStreamInfer finish from the completion callback; repository
// load/unload runs on the handler's control thread. Created and registered by GrpcServer;
// thread-safe.
#pragma once

#include <memory>

#include "grpc/grpc_service.grpc.pb.h"
#include "handler/request_handler.h"

namespace inferd::observability {
class PayloadLogger;
}

namespace inferd::grpc {

class InferenceService final : public inference::GRPCInferenceService::CallbackService {
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
  std::unique_ptr<
      ::grpc::MessageAllocator<inference::ModelInferRequest, inference::ModelInferResponse>>
      infer_allocator_;
};

}  // namespace inferd::grpc
