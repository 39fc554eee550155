#include "bench/grpc_infer_client.h"

#include <chrono>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

namespace inferd::bench {

std::shared_ptr<const inference::ModelInferRequest> MakeGrpcInferRequest(
    const std::string& model, const std::vector<Tensor>& inputs) {
  auto request = std::make_shared<inference::ModelInferRequest>();
  request->set_model_name(model);
  for (const Tensor& t : inputs) {
    auto* in = request->add_inputs();
    in->set_name(t.name());
    in->set_datatype(std::string(DataTypeName(t.dtype())));
    for (int64_t d : t.shape()) in->add_shape(d);
    request->add_raw_input_contents(reinterpret_cast<const char*>(t.data().data()),
                                    t.byte_size());
  }
  return request;
}

namespace {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

nlohmann::json Duration(const inference::StatisticDuration& d) {
  return {{"count", d.count()}, {"ns", d.ns()}};
}

}  // namespace

Result<std::string> GrpcStatisticsJson(const std::string& target, const std::string& model) {
  auto stub = inference::GRPCInferenceService::NewStub(MakeChannel(target));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  inference::ModelStatisticsRequest req;
  req.set_name(model);
  inference::ModelStatisticsResponse res;
  grpc::Status s = stub->ModelStatistics(&ctx, req, &res);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) return NotFound(s.error_message());
  if (!s.ok()) return Unavailable("ModelStatistics: " + s.error_message());
  nlohmann::json models = nlohmann::json::array();
  for (const auto& m : res.model_stats()) {
    const auto& st = m.inference_stats();
    models.push_back({{"name", m.name()},
                      {"version", m.version()},
                      {"inference_count", m.inference_count()},
                      {"execution_count", m.execution_count()},
                      {"inference_stats",
                       {{"success", Duration(st.success())},
                        {"fail", Duration(st.fail())},
                        {"queue", Duration(st.queue())},
                        {"compute_input", Duration(st.compute_input())},
                        {"compute_infer", Duration(st.compute_infer())},
                        {"compute_output", Duration(st.compute_output())}}}});
  }
  return nlohmann::json{{"model_stats", models}}.dump();
}

Result<std::string> GrpcModelMetadataJson(const std::string& target, const std::string& model) {
  auto stub = inference::GRPCInferenceService::NewStub(MakeChannel(target));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  inference::ModelMetadataRequest req;
  req.set_name(model);
  inference::ModelMetadataResponse res;
  grpc::Status s = stub->ModelMetadata(&ctx, req, &res);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) return NotFound(s.error_message());
  if (!s.ok()) return Unavailable("ModelMetadata: " + s.error_message());
  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& in : res.inputs()) {
    inputs.push_back({{"name", in.name()},
                      {"datatype", in.datatype()},
                      {"shape", std::vector<int64_t>(in.shape().begin(), in.shape().end())}});
  }
  return nlohmann::json{{"name", res.name()}, {"inputs", inputs}}.dump();
}

GrpcInferClient::GrpcInferClient(std::string target,
                                 std::shared_ptr<const inference::ModelInferRequest> request)
    : target_(std::move(target)), request_(std::move(request)) {}

Status GrpcInferClient::Connect() {
  channel_ = MakeChannel(target_);
  if (!channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    return Unavailable("cannot connect to gRPC " + target_);
  }
  stub_ = inference::GRPCInferenceService::NewStub(channel_);
  return Status::Ok();
}

void GrpcInferClient::Send(Done* done) {
  context_ = std::make_unique<grpc::ClientContext>();
  response_.Clear();
  stub_->async()->ModelInfer(context_.get(), request_.get(), &response_,
                             [done](grpc::Status s) { (*done)(s.ok()); });
}

}  // namespace inferd::bench
