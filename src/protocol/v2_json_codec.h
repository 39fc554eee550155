// The KServe v2 / Open Inference Protocol HTTP JSON codec with Triton's binary tensor data
// extension: request bodies of POST /v2/models/{m}[/versions/{v}]/infer become an
// InferenceRequest, InferenceResponses become response bodies. Pure functions, safe to call
// from any thread; the http frontend calls them, and owns sockets, headers and status codes.
//
// Wire choices (Triton-compatible where Triton defines one):
//  * JSON numbers for FP16/BF16/FP32 are rounded to nearest even; a finite number beyond the
//    type's range is an error, as out-of-range integers are. JSON has no NaN/Infinity, so a
//    request may spell them as the strings "NaN", "Infinity", "-Infinity" in float data (bare
//    NaN/Infinity tokens are a parse error: simdjson is a strict parser).
//  * Responses write NaN/Infinity/-Infinity as bare tokens, as Triton does (Python's json and
//    Triton's clients read them; strict parsers do not: ask for binary_data to avoid them).
//  * FP16/BF16 outputs appear in JSON as the shortest float text of their exact value.
//  * A BYTES output with an element that is not valid UTF-8 cannot be a JSON string without
//    losing bytes, so that output is sent binary (binary_data_size) whatever was requested.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/inference_request.h"
#include "core/status.h"

namespace inferd::protocol {

// Bytes of slack a frontend should reserve after the JSON header in a request body's capacity
// (body.reserve(size + kRequestBodyPadding)) so the JSON is parsed in place, without a copy.
// Equals simdjson::SIMDJSON_PADDING.
inline constexpr size_t kRequestBodyPadding = 64;

struct DecodeLimits {
  size_t max_json_depth = 64;  // deepest allowed nesting of JSON arrays and objects
};

// Decodes a v2 infer request body (POST /v2/models/{m}[/versions/{v}]/infer).
// header_length: the Inference-Header-Content-Length HTTP header when present: the first
// header_length bytes of *body are the JSON header and the rest is binary tensor data;
// nullopt: the whole body is JSON.
// Inputs with "parameters": {"binary_data_size": N} take the next N bytes of the binary section
// in the order the inputs appear; their bytes are borrowed from *body (no copy) and start
// wherever the JSON header ends, so they are usually NOT aligned for their element type (read
// them with memcpy, or copy, rather than Tensor::As<T>()). JSON "data"
// may be flat or nested (nested must be rectangular and match "shape") and is written straight
// into each tensor's owned bytes. model_name/model_version are left for the caller (URL).
// Errors: INVALID_ARGUMENT naming the offending field.
Result<InferenceRequest> DecodeInferRequest(std::shared_ptr<const std::string> body,
                                            std::optional<size_t> header_length,
                                            const DecodeLimits& limits = {});

struct EncodedInferResponse {
  std::string body;  // JSON header, followed by binary output data when header_length is set
  std::optional<size_t> header_length;  // set (=> send Inference-Header-Content-Length) iff
                                        // any output is binary
};

// Encodes {"model_name","model_version" (a string, as Triton does),"id" (only if non-empty),
// "parameters" (if any),"outputs":[{name,datatype,shape,data | parameters{binary_data_size}}]}.
// An output is binary when its RequestedOutput has parameter "binary_data": true, or, lacking
// that parameter, when the request parameter "binary_data_output" is true. Binary outputs follow
// the JSON in output order (BYTES in the length-prefixed layout). Outputs are trusted to be
// well formed (Tensor::ValidateByteSize); malformed data is encoded without overrunning.
EncodedInferResponse EncodeInferResponse(const InferenceResponse& response,
                                         const InferenceRequest& request);
// The same, into `out`, whose body buffer is reused (cleared, its capacity kept).
void EncodeInferResponseInto(const InferenceResponse& response, const InferenceRequest& request,
                             EncodedInferResponse& out);

// Appends the tensor's elements as a flat JSON array ("[1,2.5,...]", BYTES as strings), as a
// response's "data"; false when they cannot be JSON (BYTES that are not valid UTF-8), leaving
// `out` to be restored by the caller. `inferd predict` writes its JSON Lines rows with it.
bool AppendTensorJsonData(std::string& out, const Tensor& tensor);

// {"error":"<message>"} with JSON escaping (invalid UTF-8 becomes U+FFFD).
std::string EncodeError(std::string_view message);

}  // namespace inferd::protocol
