// Fuzzes the gRPC request codec: the input is a serialized inference.ModelInferRequest (as grpc++
// hands it over), parsed with ParseFromArray and, when it parses, decoded with
// DecodeModelInferRequest. Requests that decode are answered as an identity model would and
// encoded with EncodeModelInferResponse.
#include <cstddef>
#include <cstdint>
#include <memory>

#include <google/protobuf/stubs/logging.h>

#include "grpc/grpc_codec.h"

// protobuf logs every string field with invalid UTF-8 it parses; at fuzzing rates that log is
// most of the run time. grpc++ drops such messages before inferd sees them, as ParseFromArray's
// false return does here.
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > static_cast<size_t>(INT32_MAX)) return 0;
  auto message = std::make_shared<inference::ModelInferRequest>();
  if (!message->ParseFromArray(data, static_cast<int>(size))) return 0;
  auto request = inferd::grpc::DecodeModelInferRequest(message);
  if (!request.ok()) return 0;

  inferd::InferenceResponse response;
  response.model_name = request->model_name;
  response.model_version = request->model_version;
  response.id = request->id;
  response.parameters = request->parameters;
  response.outputs.assign(request->inputs.begin(), request->inputs.end());
  inference::ModelInferResponse out;
  inferd::grpc::EncodeModelInferResponse(response, &out);
  return 0;
}
