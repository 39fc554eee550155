#include "grpc/stream_infer_reactor.h"

#include <string>

#include "core/duration.h"
#include "grpc/grpc_codec.h"
#include "grpc/infer_payload_log.h"
#include "grpc/status_mapping.h"
#include "grpc/unary_call.h"
#include "observability/logging.h"

namespace inferd::grpc {

using inference::ModelInferRequest;
using inference::ModelStreamInferResponse;

namespace {

// An error answer names its request (id, model) so that clients can match it, as a response
// would.
std::unique_ptr<ModelStreamInferResponse> ErrorAnswer(const Status& status,
                                                      const ModelInferRequest& request) {
  auto answer = std::make_unique<ModelStreamInferResponse>();
  answer->set_error_message(status.message());
  auto* named = answer->mutable_infer_response();
  named->set_id(request.id());
  named->set_model_name(request.model_name());
  named->set_model_version(request.model_version());
  return answer;
}

}  // namespace

constexpr std::string_view kStreamPath = "/inference.GRPCInferenceService/ModelStreamInfer";

StreamInferReactor::StreamInferReactor(handler::RequestHandler* handler,
                                       ::grpc::CallbackServerContext* ctx, int max_in_flight,
                                       observability::PayloadLogger* payload_logger)
    : handler_(handler),
      ctx_(ctx),
      max_in_flight_(max_in_flight > 0 ? max_in_flight : 1),
      payload_logger_(payload_logger) {
  if (auto refused = AdmitCall(*handler_, ctx_, security::ApiCategory::kInference)) {
    MutexLock lock(mu_);
    finished_ = true;
    reads_done_ = true;
    Finish(*refused);
    return;
  }
  Actions actions;
  {
    MutexLock lock(mu_);
    MaybeRead(actions);
  }
  Run(actions);
}

void StreamInferReactor::MaybeRead(Actions& actions) {
  if (read_pending_ || reads_done_ || in_flight_ >= max_in_flight_) return;
  reading_ = std::make_shared<ModelInferRequest>();
  read_pending_ = true;
  actions.read = reading_.get();
}

void StreamInferReactor::MaybeFinish(Actions& actions) {
  if (finished_ || !reads_done_ || in_flight_ > 0 || writing_) return;
  finished_ = true;
  actions.finish = true;
}

void StreamInferReactor::Run(const Actions& actions) {
  if (actions.read != nullptr) StartRead(actions.read);
  if (actions.write != nullptr) StartWrite(actions.write);
  if (actions.finish) Finish(::grpc::Status::OK);
}

void StreamInferReactor::OnReadDone(bool ok) {
  Actions actions;
  std::shared_ptr<const ModelInferRequest> request;
  {
    MutexLock lock(mu_);
    read_pending_ = false;
    if (!ok) {
      reads_done_ = true;
      reading_.reset();
      MaybeFinish(actions);
    } else {
      request = std::move(reading_);
      ++in_flight_;
      MaybeRead(actions);
    }
  }
  // Submitted before the next read starts, so a stream's requests reach the handler in the
  // order they were sent: the requests of one sequence (sequence batching) must run in order.
  if (request) Submit(std::move(request));
  Run(actions);
}

void StreamInferReactor::Submit(std::shared_ptr<const ModelInferRequest> request) {
  auto record = std::make_shared<handler::CallRecord>(handler::RequestHandler::StartCall(0));
  record->model = request->model_name();
  record->deadline = DeadlineOf(*ctx_);
  // Every request of the stream continues the trace context the call was opened with.
  const auto& metadata = ctx_->client_metadata();
  if (auto it = metadata.find("traceparent"); it != metadata.end()) {
    handler_->StartTrace(*record, std::string_view(it->second.data(), it->second.size()));
  } else {
    handler_->StartTrace(*record, {});
  }
  uint64_t serial = 0;
  {
    MutexLock lock(mu_);
    serial = next_serial_++;
  }
  // Each request of a stream is its own event pair, under a fresh id: the call's x-request-id
  // metadata would be shared by all of them.
  std::string log_id = LogInferRequest(payload_logger_, {}, request);
  const auto decode_start = handler::SteadyClock::now();
  auto decoded = DecodeModelInferRequest(request);
  record->times.decode_ns = NanosSince(decode_start);
  if (!decoded.ok()) {
    const Status& s = decoded.status();
    return Answer(serial, *record, ToGrpcStatus(s), ErrorAnswer(s, *request));
  }
  record->version = decoded->model_version;
  record->infer = std::make_shared<handler::InferCall>();
  {
    MutexLock lock(mu_);
    if (cancelled_) record->infer->cancelled.store(true);
    live_.emplace(serial, record->infer);
  }
  handler_->Infer(*record, std::move(decoded).value(),
                  [this, serial, record, request = std::move(request),
                   log_id = std::move(log_id)](Result<InferenceResponse> result) mutable {
                    record->times.facade_end_unix_ns = handler::TraceNanos(*record);
                    if (!result.ok()) {
                      const Status& s = result.status();
                      return Answer(serial, *record, ToGrpcStatus(s), ErrorAnswer(s, *request));
                    }
                    auto answer = std::make_unique<ModelStreamInferResponse>();
                    const auto encode_start = handler::SteadyClock::now();
                    record->times.encode_start_unix_ns = handler::TraceNanos(*record);
                    EncodeModelInferResponse(*result, answer->mutable_infer_response());
                    record->times.encode_ns = NanosSince(encode_start);
                    if (!log_id.empty()) {
                      LogInferResponse(payload_logger_, std::move(log_id), request->model_name(),
                                       record->version, std::move(result).value());
                    }
                    Answer(serial, *record, ::grpc::Status::OK, std::move(answer));
                  });
}

void StreamInferReactor::Answer(uint64_t serial, handler::CallRecord& record,
                                const ::grpc::Status& status,
                                std::unique_ptr<ModelStreamInferResponse> answer) {
  if (observability::AccessLogEnabled() || record.traced) {
    ObserveCall(*handler_, record, *ctx_, kStreamPath, status, answer->ByteSizeLong());
  }
  Actions actions;
  {
    MutexLock lock(mu_);
    live_.erase(serial);
    --in_flight_;
    if (!writes_failed_) {
      writes_.push_back(std::move(answer));
      if (!writing_) {
        writing_ = true;
        actions.write = writes_.front().get();
      }
    }
    MaybeRead(actions);
    MaybeFinish(actions);
  }
  Run(actions);
}

void StreamInferReactor::OnCancel() {
  MutexLock lock(mu_);
  cancelled_ = true;
  for (auto& [serial, call] : live_) call->cancelled.store(true);
}

void StreamInferReactor::OnWriteDone(bool ok) {
  Actions actions;
  {
    MutexLock lock(mu_);
    writes_.pop_front();
    if (!ok) {
      // The call is cancelled or broken; answers still to come are dropped.
      writes_failed_ = true;
      writes_.clear();
    }
    if (writes_.empty()) {
      writing_ = false;
    } else {
      actions.write = writes_.front().get();
    }
    MaybeFinish(actions);
  }
  Run(actions);
}

void StreamInferReactor::OnDone() { delete this; }

}  // namespace inferd::grpc
