// GrpcInferClient: an InferClient that calls GRPCInferenceService/ModelInfer with grpc++'s
// callback API on its own channel (a local subchannel pool, so one TCP connection per virtual
// user, as HTTP has). Inputs travel as raw_input_contents; the request message is built once and
// shared by every client of a run.
#pragma once

#include <memory>
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

class GrpcInferClient final : public InferClient {
 public:
  GrpcInferClient(std::string target, std::shared_ptr<const inference::ModelInferRequest> request);

  Status Connect() override;
  void Send(Done* done) override;

 private:
  std::string target_;
  std::shared_ptr<const inference::ModelInferRequest> request_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  std::unique_ptr<grpc::ClientContext> context_;
  inference::ModelInferResponse response_;
};

}  // namespace inferd::bench
