// Checks an inference request against the model config before any engine sees it: input names,
// presence, datatypes, shapes (batch dim within max_batch_size, one batch size for all inputs),
// byte sizes, and requested outputs. Pure; called by InferenceServer on the frontend's thread.
#pragma once

#include <string>
#include <vector>

#include "config/model_config.pb.h"
#include "core/inference_request.h"
#include "scheduling/scheduler.h"

namespace inferd::server {

struct ValidatedRequest {
  // The outputs to compute: the requested subset, or every config output in config order.
  scheduling::OutputNames output_names;
  // Rows in the request (its batch dim); 1 for models without batching.
  int64_t batch_size = 1;
};

// Size limits on one inference request, checked before the model is even looked up, so a
// request built to exhaust memory or CPU is refused cheaply. 0 = no limit.
struct RequestLimits {
  size_t max_inputs = 1024;            // input tensors per request
  int64_t max_elements = 0;            // elements over all inputs
  uint64_t max_bytes = 0;              // tensor bytes over all inputs
  uint64_t max_bytes_element_bytes = 0;  // one BYTES (string) element, bytes
};

// RESOURCE_EXHAUSTED naming the limit and the tensor that crossed it.
Status CheckRequestLimits(const InferenceRequest& request, const RequestLimits& limits);

// Errors are INVALID_ARGUMENT and name the offending tensor and the model.
Result<ValidatedRequest> ValidateRequest(const config::ModelConfig& config,
                                         const InferenceRequest& request);

}  // namespace inferd::server
