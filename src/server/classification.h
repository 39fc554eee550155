// The classification extension (as Triton's): an output requested with the parameter
// "classification": k comes back as its k highest scores per batch row, highest first, each a
// BYTES element "score:index" or, when the config names a label file for the output,
// "score:index:label". Pure functions; the facade applies them to a finished response.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/inference_request.h"

namespace inferd::server {

// Output name → its labels (line i of the config's label_filename names class i).
using OutputLabels = std::map<std::string, std::vector<std::string>, std::less<>>;

// The requested classifications: output name → k. INVALID_ARGUMENT for a k that is not a
// positive integer.
Result<std::map<std::string, int64_t>> RequestedClassifications(const InferenceRequest& request);

// `scores` [batch, classes] (batched) or [classes] → BYTES [batch, min(k, classes)] / [k].
// Numeric scores only; INVALID_ARGUMENT otherwise.
Result<Tensor> ClassifyOutput(const Tensor& scores, int64_t k, bool batched,
                              const std::vector<std::string>* labels);

// Replaces each requested output of `response` by its classification.
Status ApplyClassifications(const std::map<std::string, int64_t>& requested, bool batched,
                            const OutputLabels& labels, InferenceResponse& response);

}  // namespace inferd::server
