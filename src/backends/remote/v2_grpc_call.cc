#include "backends/remote/v2_grpc_call.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstring>

#include "grpc/grpc_service.grpc.pb.h"

namespace inferd::backends::remote {

struct V2GrpcClient::Impl {
  std::shared_ptr<::grpc::Channel> channel;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub;
};

namespace {

inference::ModelInferRequest MakeRequest(const V2Endpoint& endpoint, std::span<const Tensor> inputs,
                                         std::span<const std::string> output_names) {
  inference::ModelInferRequest request;
  request.set_model_name(endpoint.model_name);
  request.set_model_version(endpoint.model_version);
  for (const Tensor& t : inputs) {
    auto* in = request.add_inputs();
    in->set_name(t.name());
    in->set_datatype(std::string(DataTypeName(t.dtype())));
    for (int64_t d : t.shape()) in->add_shape(d);
    request.add_raw_input_contents(reinterpret_cast<const char*>(t.data().data()), t.byte_size());
  }
  for (const std::string& name : output_names) request.add_outputs()->set_name(name);
  return request;
}

Result<std::vector<Tensor>> ParseResponse(const inference::ModelInferResponse& response,
                                          std::span<const std::string> output_names) {
  if (response.raw_output_contents_size() != response.outputs_size()) {
    return BadGateway("the remote answered outputs without raw_output_contents");
  }
  std::vector<Tensor> ordered;
  for (const std::string& name : output_names) {
    const auto& outputs = response.outputs();
    auto it = std::find_if(outputs.begin(), outputs.end(),
                           [&](const auto& out) { return out.name() == name; });
    if (it == outputs.end()) {
      return BadGateway(fmt::format("the remote's answer lacks output '{}'", name));
    }
    const std::string& raw = response.raw_output_contents(static_cast<int>(it - outputs.begin()));
    Tensor t(name, DataTypeFromName(it->datatype()), Shape(it->shape().begin(), it->shape().end()));
    std::vector<std::byte> bytes(raw.size());
    std::memcpy(bytes.data(), raw.data(), raw.size());
    t.SetData(std::move(bytes));
    if (Status s = t.ValidateByteSize(); !s.ok()) {
      return BadGateway(fmt::format("the remote's output '{}': {}", name, s.message()));
    }
    ordered.push_back(std::move(t));
  }
  return ordered;
}

}  // namespace

V2GrpcClient::V2GrpcClient(V2Endpoint endpoint)
    : endpoint_(std::move(endpoint)), impl_(std::make_unique<Impl>()) {
  ::grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  // One connection per instance: instances are the remote step's concurrency.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  impl_->channel = ::grpc::CreateCustomChannel(fmt::format("{}:{}", endpoint_.host, endpoint_.port),
                                               ::grpc::InsecureChannelCredentials(), args);
  impl_->stub = inference::GRPCInferenceService::NewStub(impl_->channel);
}

V2GrpcClient::~V2GrpcClient() = default;

Result<std::vector<Tensor>> V2GrpcClient::Call(std::span<const Tensor> inputs,
                                               std::span<const std::string> output_names,
                                               const CallOptions& options) {
  const auto request = MakeRequest(endpoint_, inputs, output_names);
  ::grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + options.timeout);
  if (!options.traceparent.empty()) {
    ctx.AddMetadata("traceparent", std::string(options.traceparent));
  }
  inference::ModelInferResponse response;
  const ::grpc::Status s = impl_->stub->ModelInfer(&ctx, request, &response);
  const std::string where = fmt::format("{}:{}", endpoint_.host, endpoint_.port);
  if (s.ok()) return ParseResponse(response, output_names);
  const std::string message = fmt::format("the remote server answered {}: {}",
                                          static_cast<int>(s.error_code()), s.error_message());
  switch (s.error_code()) {
    case ::grpc::StatusCode::DEADLINE_EXCEEDED:
      return DeadlineExceeded(fmt::format("remote server {} did not answer within {} ms (gRPC)",
                                          where, options.timeout.count()));
    case ::grpc::StatusCode::UNAVAILABLE:
      // The remote's own UNAVAILABLE (a model not ready) comes over a working connection; a
      // server that is down leaves the channel failing.
      if (impl_->channel->GetState(false) != GRPC_CHANNEL_READY) {
        return BadGateway(fmt::format("remote server {} failed while connecting (gRPC): {}", where,
                                      s.error_message()));
      }
      return Unavailable(message);
    case ::grpc::StatusCode::INVALID_ARGUMENT:
      return InvalidArgument(message);
    case ::grpc::StatusCode::NOT_FOUND:
      return NotFound(message);
    case ::grpc::StatusCode::RESOURCE_EXHAUSTED:
      return ResourceExhausted(message);
    case ::grpc::StatusCode::UNIMPLEMENTED:
      return Unimplemented(message);
    default:
      return Internal(message);
  }
}

}  // namespace inferd::backends::remote
