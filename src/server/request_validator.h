// Checks an inference request against the model config before any engine sees it: input names,
// presence, datatypes, shapes (batch dim within max_batch_size, one batch size for all inputs),
// byte sizes, and requested outputs. Pure; called by InferenceServer on the frontend's thread.
#pragma once

#include <string>
#include <vector>

#include "config/model_config.pb.h"
#include "core/inference_request.h"

namespace inferd::server {

// Returns the names of the outputs to compute (the requested subset, or every config output
// in config order). Errors are INVALID_ARGUMENT and name the offending tensor and the model.
Result<std::vector<std::string>> ValidateRequest(const config::ModelConfig& config,
                                                 const InferenceRequest& request);

}  // namespace inferd::server
