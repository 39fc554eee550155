// GrpcInferClient: an InferClient that calls GRPCInferenceService/ModelInfer with grpc++'s
// async completion-queue API on its own channel (a local subchannel pool, so one TCP connection
// per virtual user, as HTTP has). Inputs travel as raw_input_contents; the request message is
// serialized once per client and sent as those bytes each time (as the HTTP client sends its
// prebuilt body), and the answer is checked by its status, not parsed. The clients of a run
// share a few polling threads (GrpcClientQueues, one per two cores as HTTP's I/O threads):
// grpc++'s callback API spent more CPU than the server it measured.
#pragma once

#include <grpcpp/generic/generic_stub.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/infer_client.h"
#include "core/tensor.h"
#include "grpc/grpc_service.grpc.pb.h"

namespace inferd::bench {

// The ModelInfer request for `model` with `inputs` as raw contents (all outputs requested).
std::shared_ptr<const inference::ModelInferRequest> MakeGrpcInferRequest(
    const std::string& model, const std::vector<Tensor>& inputs);

// Blocking ModelStatistics for `model`, rendered in the HTTP statistics JSON shape so that
// ParseServerStats reads both protocols alike.
Result<std::string> GrpcStatisticsJson(const std::string& target, const std::string& model);

// Blocking ModelMetadata for `model`, rendered as the HTTP metadata JSON's "inputs" so that
// ParseModelInputs reads both protocols alike.
Result<std::string> GrpcModelMetadataJson(const std::string& target, const std::string& model);

class GrpcClientQueues;

class GrpcInferClient final : public InferClient {
 public:
  GrpcInferClient(std::string target, std::shared_ptr<const inference::ModelInferRequest> request);
  ~GrpcInferClient() override;

  Status Connect() override;
  void Send(Done* done) override;

  // Runs on a polling thread when the call's Finish tag comes back.
  void OnFinished(bool ok);

 private:
  std::string target_;
  std::shared_ptr<const inference::ModelInferRequest> request_;
  std::shared_ptr<GrpcClientQueues> queues_;
  grpc::CompletionQueue* cq_ = nullptr;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> stub_;
  grpc::ByteBuffer request_bytes_;
  // The call in flight (or the last one): its context and reader live until the next Send.
  std::optional<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<grpc::ByteBuffer>> call_;
  grpc::ByteBuffer response_;
  grpc::Status status_;
  Done* done_ = nullptr;
};

}  // namespace inferd::bench
