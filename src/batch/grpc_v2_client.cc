#include "batch/grpc_v2_client.h"

#include <fmt/format.h>

#include <cstring>

#include "batch/http_v2_client.h"
#include "batch/in_process_engine.h"

namespace inferd::batch {

GrpcV2Client::GrpcV2Client(std::string target) : target_(std::move(target)) {
  ::grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  channel_ = ::grpc::CreateCustomChannel(target_, ::grpc::InsecureChannelCredentials(), args);
  stub_ = inference::GRPCInferenceService::NewStub(channel_);
}

Status GrpcV2Client::CallError(const ::grpc::Status& status) const {
  std::string message = fmt::format("{} answered {}: {}", target_,
                                    static_cast<int>(status.error_code()), status.error_message());
  switch (status.error_code()) {
    case ::grpc::StatusCode::INVALID_ARGUMENT:
      return InvalidArgument(std::move(message));
    case ::grpc::StatusCode::NOT_FOUND:
      return NotFound(std::move(message));
    default:
      return Unavailable(std::move(message));
  }
}

Result<ModelSpec> GrpcV2Client::Describe(const std::string& model) {
  inference::ModelMetadataRequest metadata_request;
  metadata_request.set_name(model);
  inference::ModelMetadataResponse metadata_response;
  ::grpc::ClientContext metadata_context;
  ::grpc::Status status =
      stub_->ModelMetadata(&metadata_context, metadata_request, &metadata_response);
  if (!status.ok()) return CallError(status);
  inference::ModelConfigRequest config_request;
  config_request.set_name(model);
  inference::ModelConfigResponse config_response;
  ::grpc::ClientContext config_context;
  status = stub_->ModelConfig(&config_context, config_request, &config_response);
  if (!status.ok()) return CallError(status);
  server::ModelMetadata metadata;
  metadata.name = model;
  for (const auto& t : metadata_response.inputs()) {
    metadata.inputs.push_back(
        {t.name(), DataTypeFromName(t.datatype()), Shape(t.shape().begin(), t.shape().end())});
  }
  for (const auto& t : metadata_response.outputs()) {
    metadata.outputs.push_back(
        {t.name(), DataTypeFromName(t.datatype()), Shape(t.shape().begin(), t.shape().end())});
  }
  return SpecFromMetadata(metadata, config_response.config().max_batch_size());
}

Result<InferenceResponse> GrpcV2Client::Infer(const InferenceRequest& request) {
  inference::ModelInferRequest message;
  message.set_model_name(request.model_name);
  message.set_id(request.id);
  for (const Tensor& t : request.inputs) {
    auto* in = message.add_inputs();
    in->set_name(t.name());
    in->set_datatype(std::string(DataTypeName(t.dtype())));
    for (int64_t d : t.shape()) in->add_shape(d);
    message.add_raw_input_contents(reinterpret_cast<const char*>(t.data().data()), t.byte_size());
  }
  for (const RequestedOutput& requested : request.outputs) {
    auto* out = message.add_outputs();
    out->set_name(requested.name);
    if (auto k = GetIntParameter(requested.parameters, "classification")) {
      (*out->mutable_parameters())["classification"].set_int64_param(*k);
    }
  }
  inference::ModelInferResponse answer;
  ::grpc::ClientContext context;
  ::grpc::Status status = stub_->ModelInfer(&context, message, &answer);
  if (!status.ok()) return CallError(status);
  if (answer.raw_output_contents_size() != answer.outputs_size()) {
    return Internal(fmt::format("{}: {} outputs with {} raw contents", target_,
                                answer.outputs_size(), answer.raw_output_contents_size()));
  }
  InferenceResponse response;
  response.model_name = answer.model_name();
  for (int i = 0; i < answer.outputs_size(); ++i) {
    const auto& out = answer.outputs(i);
    Tensor tensor(out.name(), DataTypeFromName(out.datatype()),
                  Shape(out.shape().begin(), out.shape().end()));
    const std::string& raw = answer.raw_output_contents(i);
    std::span<std::byte> bytes = tensor.AllocateData(raw.size());
    if (!raw.empty()) std::memcpy(bytes.data(), raw.data(), raw.size());
    response.outputs.push_back(std::move(tensor));
  }
  return response;
}

Result<std::unique_ptr<V2Client>> CreateV2Client(const std::string& protocol,
                                                 const std::string& url) {
  if (protocol == "grpc") {
    if (url.find("://") != std::string::npos) {
      return InvalidArgument(fmt::format("--url '{}': gRPC wants host:port", url));
    }
    return std::unique_ptr<V2Client>(std::make_unique<GrpcV2Client>(url));
  }
  ASSIGN_OR_RETURN(auto client, HttpV2Client::Create(url));
  return std::unique_ptr<V2Client>(std::move(client));
}

}  // namespace inferd::batch
