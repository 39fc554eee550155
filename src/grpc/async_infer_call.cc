#include "grpc/async_infer_call.h"

#include "core/duration.h"
#include "grpc/grpc_codec.h"
#include "grpc/infer_payload_log.h"
#include "grpc/inference_service.h"
#include "grpc/status_mapping.h"
#include "grpc/unary_call.h"
#include "observability/logging.h"

namespace inferd::grpc {
namespace {

constexpr std::string_view kInferPath = "/inference.GRPCInferenceService/ModelInfer";

}  // namespace

AsyncInferCall::AsyncInferCall(Shared* shared, ::grpc::ServerCompletionQueue* cq)
    : shared_(shared),
      cq_(cq),
      request_(std::make_shared<inference::ModelInferRequest>()),
      responder_(&ctx_),
      infer_(std::make_shared<handler::InferCall>()) {
  shared_->live.fetch_add(1, std::memory_order_relaxed);
}

AsyncInferCall::~AsyncInferCall() {
  if (shared_->live.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    MutexLock lock(shared_->live_mu);  // so InferPollers::Stop cannot miss the notification
    shared_->none_live.NotifyAll();
  }
}

void AsyncInferCall::Request(Shared* shared, ::grpc::ServerCompletionQueue* cq) {
  auto* call = new AsyncInferCall(shared, cq);  // deleted by Handle() or Unref()
  call->ctx_.AsyncNotifyWhenDone(&call->done_);
  shared->service->RequestModelInfer(&call->ctx_, call->request_.get(), &call->responder_, cq, cq,
                                     &call->arrived_);
}

void AsyncInferCall::Handle(void* tag, bool ok) {
  const Tag* t = static_cast<const Tag*>(tag);
  AsyncInferCall* call = t->call;
  switch (t->event) {
    case Event::kArrived:
      // Not ok: the server is shutting down and the request was never matched with a call;
      // gRPC never returns its done notice then.
      if (!ok) {
        delete call;
        return;
      }
      // The next call is asked for before this one runs, so arrivals never wait on inference.
      if (call->shared_->accepting.load(std::memory_order_acquire)) {
        Request(call->shared_, call->cq_);
      }
      call->Start();
      return;
    case Event::kDone:
      // Returned when the call ends either way; cancelled means the client cancelled, went
      // away or ran past its deadline: the queued inference is dropped unrun.
      if (call->ctx_.IsCancelled()) call->infer_->cancelled.store(true);
      call->Unref();
      return;
    case Event::kFinished:
      call->Unref();
      return;
  }
}

void AsyncInferCall::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

void AsyncInferCall::Start() {
  handler::RequestHandler& handler = *shared_->handler;
  record_ = handler::RequestHandler::StartCall(0);
  record_.infer = infer_;
  if (auto refused = AdmitCall(handler, &ctx_, security::ApiCategory::kInference)) {
    Complete(*refused, false);
    return;
  }
  record_.model = request_->model_name();
  record_.deadline = DeadlineOf(ctx_);
  handler.StartTrace(record_, ClientMetadata(ctx_, "traceparent"));
  // Logged before decoding, as HTTP logs the body it received: a request the server refuses
  // is logged too, and its (failed) response is not.
  log_id_ =
      LogInferRequest(shared_->payload_logger, ClientMetadata(ctx_, "x-request-id"), request_);
  const auto decode_start = handler::SteadyClock::now();
  auto decoded = DecodeModelInferRequest(request_);
  record_.times.decode_ns = NanosSince(decode_start);
  if (!decoded.ok()) {
    Complete(ToGrpcStatus(decoded.status()), false);
    return;
  }
  record_.version = decoded->model_version;
  // Runs here when the model executes inline, else on a model worker; either way the call
  // stays alive until Finish's tag comes back.
  handler.Infer(record_, std::move(decoded).value(), [this](Result<InferenceResponse> result) {
    record_.times.facade_end_unix_ns = handler::TraceNanos(record_);
    if (!result.ok()) {
      Complete(ToGrpcStatus(result.status()), false);
      return;
    }
    const auto encode_start = handler::SteadyClock::now();
    record_.times.encode_start_unix_ns = handler::TraceNanos(record_);
    EncodeModelInferResponse(*result, &response_);
    record_.times.encode_ns = NanosSince(encode_start);
    if (!log_id_.empty()) {
      LogInferResponse(shared_->payload_logger, std::move(log_id_), request_->model_name(),
                       record_.version, std::move(result).value());
    }
    Complete(::grpc::Status::OK, true);
  });
}

void AsyncInferCall::Complete(const ::grpc::Status& status, bool with_response) {
  if (record_.traced) {
    ctx_.AddTrailingMetadata("traceparent", handler::RequestHandler::TraceParentOf(record_));
  }
  if (observability::AccessLogEnabled() || record_.traced) {
    record_.body_bytes = request_->ByteSizeLong();
    ObserveCall(*shared_->handler, record_, ctx_, kInferPath, status,
                with_response ? response_.ByteSizeLong() : 0);
  }
  if (status.ok()) {
    responder_.Finish(response_, status, &finished_);
  } else {
    responder_.FinishWithError(status, &finished_);
  }
}

}  // namespace inferd::grpc
