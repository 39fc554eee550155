// GrpcV2Client: a V2Client over v2 gRPC (inference.GRPCInferenceService), blocking calls on
// its own channel; tensors travel as raw_input_contents / raw_output_contents.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "batch/v2_client.h"
#include "grpc/grpc_service.grpc.pb.h"

namespace inferd::batch {

class GrpcV2Client final : public V2Client {
 public:
  explicit GrpcV2Client(std::string target);

  Result<ModelSpec> Describe(const std::string& model) override;
  Result<InferenceResponse> Infer(const InferenceRequest& request) override;

 private:
  Status CallError(const ::grpc::Status& status) const;

  std::string target_;
  std::shared_ptr<::grpc::Channel> channel_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

}  // namespace inferd::batch
