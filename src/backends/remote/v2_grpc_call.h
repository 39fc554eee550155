// One KServe v2 inference over gRPC (GRPCInferenceService/ModelInfer) to another server
// (inferd, Triton): inputs go out as raw_input_contents, outputs come back as
// raw_output_contents; the call runs under a gRPC deadline, which the remote sees too, and
// carries the W3C `traceparent` as metadata. The remote processor (remote_backend.h) keeps one
// client per instance, so its channel (one HTTP/2 connection) is reused across calls. Blocking;
// one call at a time per object.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backends/remote/v2_http_call.h"

namespace inferd::backends::remote {

class V2GrpcClient {
 public:
  // The channel connects on first use.
  explicit V2GrpcClient(V2Endpoint endpoint);
  ~V2GrpcClient();
  V2GrpcClient(const V2GrpcClient&) = delete;
  V2GrpcClient& operator=(const V2GrpcClient&) = delete;

  // As CallV2 (v2_http_call.h): the outputs named `output_names`, in that order. Errors: the
  // remote's own with its gRPC code mapped back; BAD_GATEWAY when it cannot be reached or its
  // answer is not a v2 response; DEADLINE_EXCEEDED when it does not answer in time.
  Result<std::vector<Tensor>> Call(std::span<const Tensor> inputs,
                                   std::span<const std::string> output_names,
                                   const CallOptions& options);

 private:
  struct Impl;
  V2Endpoint endpoint_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace inferd::backends::remote
