// Checks an inference request against the model config before any engine sees it: input names,
// presence, datatypes, shapes (batch dim within max_batch_size, one batch size for all inputs),
// byte sizes, and requested outputs. Pure; called by InferenceServer on the frontend's thread.
#pragma once

#include <string>
#include <vector>

#include "config/model_config.pb.h"
#include "core/inference_request.h"

namespace inferd::server {

struct ValidatedRequest {
  // The outputs to compute: the requested subset, or every config output in config order.
  std::vector<std::string> output_names;
  // Rows in the request (its batch dim); 1 for models without batching.
  int64_t batch_size = 1;
};

// Errors are INVALID_ARGUMENT and name the offending tensor and the model.
Result<ValidatedRequest> ValidateRequest(const config::ModelConfig& config,
                                         const InferenceRequest& request);

}  // namespace inferd::server
