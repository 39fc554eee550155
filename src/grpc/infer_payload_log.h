// Payload logging of gRPC inference (ModelInfer, ModelStreamInfer): what the sink receives for a
// gRPC call, as observability::PayloadLogger sends it for HTTP. The body of an event is the
// protobuf message itself, serialised (`inference.ModelInferRequest` /
// `inference.ModelInferResponse`, without gRPC's 5-byte frame prefix), content type
// `application/x-protobuf; messageType=<message>` — KServe's logger forwards a payload as it
// came, and for gRPC that is protobuf, not JSON. Only the enqueueing happens on the calling
// thread: the request message is shared (no copy) and the response is kept as the server's
// InferenceResponse, both serialised on the logger's thread when (and if) the event is sent.
// Called by InferenceService::ModelInfer and StreamInferReactor; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/inference_request.h"
#include "grpc/grpc_service.pb.h"

namespace inferd::observability {
class PayloadLogger;
}

namespace inferd::grpc {

inline constexpr std::string_view kInferRequestContentType =
    "application/x-protobuf; messageType=inference.ModelInferRequest";
inline constexpr std::string_view kInferResponseContentType =
    "application/x-protobuf; messageType=inference.ModelInferResponse";

// Samples the request and, when it is taken, logs it: returns the event id its response is to
// be logged under (`request_id` when not empty — the call's x-request-id — else a fresh UUID),
// or "" when the request is not logged (no logger, or not sampled). The version logged is the
// one the request names (0 for none or an unparsable one).
std::string LogInferRequest(observability::PayloadLogger* logger, std::string_view request_id,
                            std::shared_ptr<const inference::ModelInferRequest> request);

// Logs the successful response to the request logged as `id` (a non-empty LogInferRequest
// answer). Takes the response: the caller has encoded its own message already.
void LogInferResponse(observability::PayloadLogger* logger, std::string id, std::string model,
                      int64_t version, InferenceResponse response);

}  // namespace inferd::grpc
