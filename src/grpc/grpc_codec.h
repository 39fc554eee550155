// Conversion between the gRPC protocol's ModelInferRequest / ModelInferResponse messages
// (grpc/grpc_service.proto, package `inference`) and inferd's protocol-neutral
// InferenceRequest / InferenceResponse. Pure functions, safe from any thread; GrpcServer calls
// them and owns the RPCs. Unit-tested in tests/grpc.
//
// Wire rules, as Triton's gRPC frontend applies them:
//  * Input data comes either in each input's typed `contents` (the field matching the datatype:
//    int_contents for INT8/16/32, uint_contents for UINT8/16/32, ...) or in
//    `raw_input_contents`, one entry per input in input order, for all inputs or none. FP16 and
//    BF16 have no typed field and must be raw. Narrow integers are range-checked.
//  * Raw bytes use the binary tensor extension's layout (core/tensor.h) and are borrowed from the
//    request message, which the tensors keep alive through the shared_ptr: no copy.
//  * Responses always carry `raw_output_contents` (one per output, in output order), as Triton's
//    do; typed output contents are not sent. "binary_data" parameters are HTTP-only and ignored.
//  * Errors are INVALID_ARGUMENT and name the input and the field.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "core/inference_request.h"
#include "core/status.h"
#include "grpc/grpc_service.pb.h"

namespace inferd::grpc {

// The model version of a request: "" → 0 (the version policy chooses), "3" → 3; anything but a
// positive decimal integer is INVALID_ARGUMENT naming `field`.
Result<int64_t> ParseModelVersion(std::string_view version, std::string_view field);

// Decodes a request; model name and version included.
Result<InferenceRequest> DecodeModelInferRequest(
    std::shared_ptr<const inference::ModelInferRequest> message);

// Fills `out` (expected empty) from `response`.
void EncodeModelInferResponse(const InferenceResponse& response,
                              inference::ModelInferResponse* out);

using ProtoParameters = google::protobuf::Map<std::string, inference::InferParameter>;

// InferParameter values → ParameterValue (uint64 values above INT64_MAX are INVALID_ARGUMENT;
// a parameter with no value set is INVALID_ARGUMENT). `kind` ("request", "input", "output")
// and `name` (of the input or output) say where the parameters sit, in error messages; they
// are formatted only when there is an error.
Result<Parameters> DecodeParameters(const ProtoParameters& params, std::string_view kind,
                                    std::string_view name = {});
void EncodeParameters(const Parameters& params, ProtoParameters* out);

}  // namespace inferd::grpc
