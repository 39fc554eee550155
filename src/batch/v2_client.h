// V2Client: one blocking connection to a KServe v2 server, for RemoteEngine (`inferd predict
// --url`). HttpV2Client speaks HTTP with binary tensors, GrpcV2Client the v2 gRPC protocol with
// raw contents. Not thread-safe: each worker thread of RemoteEngine has its own.
#pragma once

#include <memory>
#include <string>

#include "batch/predict_engine.h"

namespace inferd::batch {

class V2Client {
 public:
  virtual ~V2Client() = default;
  // The model's inputs, outputs and max_batch_size (metadata and config endpoints).
  virtual Result<ModelSpec> Describe(const std::string& model) = 0;
  // Runs `request`. Errors: INVALID_ARGUMENT when the server refuses the request (the rows),
  // NOT_FOUND for an unknown model, UNAVAILABLE for a failed connection or an overloaded or
  // failing server (worth retrying elsewhere).
  virtual Result<InferenceResponse> Infer(const InferenceRequest& request) = 0;
};

// "http" or "grpc"; `url` is http://host:port for HTTP, host:port for gRPC.
Result<std::unique_ptr<V2Client>> CreateV2Client(const std::string& protocol,
                                                 const std::string& url);

}  // namespace inferd::batch
