// The two decoders behind DecodeInferRequest (v2_json_codec.h). Internal to the protocol module;
// tests call them directly to check that they agree.
//
// The On-Demand decoder walks the request once with simdjson's On-Demand API and converts the
// numbers of each "data" array straight into the tensor, which is what makes large JSON tensors
// fast (the DOM parser first converts every number of the body onto its tape). It decides only
// requests that are valid and unsurprising; it returns nullopt for everything else (any error,
// duplicate keys, nesting near the depth limit, numbers it does not read exactly as the DOM
// parser does...), and the DOM decoder then decides those, so that every error message, and
// every accepted spelling, stays the DOM decoder's.
//
// Contract: when TryDecodeInferRequestOnDemand returns a request, DecodeInferRequestDom on the
// same arguments returns an equal one (same fields, parameters, shapes and tensor bytes).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "core/inference_request.h"
#include "core/status.h"
#include "protocol/v2_json_codec.h"

namespace inferd::protocol {

// `json_size` <= body->size(): the first json_size bytes are JSON, the rest binary tensor data.
Result<InferenceRequest> DecodeInferRequestDom(std::shared_ptr<const std::string> body,
                                               size_t json_size, const DecodeLimits& limits);

std::optional<InferenceRequest> TryDecodeInferRequestOnDemand(
    const std::shared_ptr<const std::string>& body, size_t json_size, const DecodeLimits& limits);

}  // namespace inferd::protocol
