#include "grpc/infer_payload_log.h"

#include "grpc/grpc_codec.h"
#include "observability/payload_logger.h"

namespace inferd::grpc {

using observability::PayloadLogger;

std::string LogInferRequest(PayloadLogger* logger, std::string_view request_id,
                            std::shared_ptr<const inference::ModelInferRequest> request) {
  if (logger == nullptr || !logger->Sample()) return {};
  std::string id = request_id.empty() ? PayloadLogger::NewEventId() : std::string(request_id);
  PayloadLogger::Payload payload;
  payload.id = id;
  payload.model = request->model_name();
  auto version = ParseModelVersion(request->model_version(), "model_version");
  payload.version = version.ok() ? *version : 0;
  payload.content_type = std::string(kInferRequestContentType);
  // The message is const from here on; serialising it on the logger's thread while the call
  // reads it is safe (protobuf's cached sizes are atomic).
  payload.render_body = [request = std::move(request)] { return request->SerializeAsString(); };
  logger->LogRequest(std::move(payload));
  return id;
}

void LogInferResponse(PayloadLogger* logger, std::string id, std::string model, int64_t version,
                      InferenceResponse response) {
  PayloadLogger::Payload payload;
  payload.id = std::move(id);
  payload.model = std::move(model);
  payload.version = version;
  payload.content_type = std::string(kInferResponseContentType);
  // Encoded again on the logger's thread, into the same message the client received.
  payload.render_body = [kept = std::make_shared<const InferenceResponse>(std::move(response))] {
    inference::ModelInferResponse message;
    EncodeModelInferResponse(*kept, &message);
    return message.SerializeAsString();
  };
  logger->LogResponse(std::move(payload));
}

}  // namespace inferd::grpc
