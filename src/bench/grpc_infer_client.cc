#include "bench/grpc_infer_client.h"

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/mutex.h"

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
    request->add_raw_input_contents(reinterpret_cast<const char*>(t.data().data()), t.byte_size());
  }
  return request;
}

namespace {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target, bool lean = false) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  if (lean) {
    // The load generator's channels: no per-call work the measurement does not need — the
    // retry filter's bookkeeping, channelz's call counters, and (minimal stack) the client's
    // deadline, compression and message-size filters; no BDP pings (one small message at a time).
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    args.SetInt(GRPC_ARG_ENABLE_CHANNELZ, 0);
    args.SetInt(GRPC_ARG_MINIMAL_STACK, 1);
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  }
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

// The polling threads of the gRPC clients alive in the process, one completion queue each;
// created with the first client, shut down with the last (a run's clients live for one level).
class GrpcClientQueues {
 public:
  static std::shared_ptr<GrpcClientQueues> Get() {
    struct Registry {
      Mutex mu;
      std::weak_ptr<GrpcClientQueues> current GUARDED_BY(mu);
    };
    static Registry* registry = new Registry();  // never destroyed: no exit-order question
    MutexLock lock(registry->mu);
    auto queues = registry->current.lock();
    if (!queues) {
      queues = std::make_shared<GrpcClientQueues>();
      registry->current = queues;
    }
    return queues;
  }

  GrpcClientQueues() {
    // As in the server (grpc/grpc_server.cc): Debian's Abseil checks the lock order of every
    // mutex gRPC takes, ~5% of the client's CPU in a profile, for a check that only reports.
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const int threads = std::clamp(cores / 2, 1, 4);  // as LoadGenerator's HTTP I/O threads
    for (int i = 0; i < threads; ++i) queues_.push_back(std::make_unique<grpc::CompletionQueue>());
    for (auto& cq : queues_) {
      threads_.emplace_back([q = cq.get()] {
        void* tag = nullptr;
        bool ok = false;
        while (q->Next(&tag, &ok)) static_cast<GrpcInferClient*>(tag)->OnFinished(ok);
      });
    }
  }

  // Every client's calls have finished (LoadGenerator drains a level before dropping them).
  ~GrpcClientQueues() {
    for (auto& cq : queues_) cq->Shutdown();
    for (auto& t : threads_) t.join();
  }

  grpc::CompletionQueue* Pick() {
    return queues_[next_.fetch_add(1, std::memory_order_relaxed) % queues_.size()].get();
  }

 private:
  std::vector<std::unique_ptr<grpc::CompletionQueue>> queues_;
  std::vector<std::thread> threads_;
  std::atomic<size_t> next_{0};
};

GrpcInferClient::GrpcInferClient(std::string target,
                                 std::shared_ptr<const inference::ModelInferRequest> request)
    : target_(std::move(target)), request_(std::move(request)) {}

GrpcInferClient::~GrpcInferClient() {
  call_.reset();  // before its context: the reader lives in the call's arena
  context_.reset();
}

Status GrpcInferClient::Connect() {
  channel_ = MakeChannel(target_, /*lean=*/true);
  if (!channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    return Unavailable("cannot connect to gRPC " + target_);
  }
  stub_ = std::make_unique<grpc::GenericStub>(channel_);
  bool own_buffer = false;
  grpc::Status s = grpc::SerializationTraits<inference::ModelInferRequest>::Serialize(
      *request_, &request_bytes_, &own_buffer);
  if (!s.ok()) return Internal("cannot serialize the ModelInfer request: " + s.error_message());
  queues_ = GrpcClientQueues::Get();
  cq_ = queues_->Pick();
  return Status::Ok();
}

void GrpcInferClient::Send(Done* done) {
  static const std::string kMethod = "/inference.GRPCInferenceService/ModelInfer";
  done_ = done;
  call_.reset();
  context_.emplace();
  call_ = stub_->PrepareUnaryCall(&*context_, kMethod, request_bytes_, cq_);
  call_->StartCall();
  // The tag may come back on a polling thread before Finish returns: nothing is touched after.
  call_->Finish(&response_, &status_, this);
}

void GrpcInferClient::OnFinished(bool ok) {
  response_.Clear();
  (*done_)(ok && status_.ok());
}

}  // namespace inferd::bench
