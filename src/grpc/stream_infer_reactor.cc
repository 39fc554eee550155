#include "grpc/stream_infer_reactor.h"

#include "grpc/grpc_codec.h"

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

StreamInferReactor::StreamInferReactor(server::InferenceServer* server, int max_in_flight)
    : server_(server), max_in_flight_(max_in_flight > 0 ? max_in_flight : 1) {
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
  Run(actions);
  if (request) Submit(std::move(request));
}

void StreamInferReactor::Submit(std::shared_ptr<const ModelInferRequest> request) {
  auto decoded = DecodeModelInferRequest(request);
  if (!decoded.ok()) return Answer(ErrorAnswer(decoded.status(), *request));
  server_->Infer(std::move(decoded).value(),
                 [this, request = std::move(request)](Result<InferenceResponse> result) {
                   if (!result.ok()) return Answer(ErrorAnswer(result.status(), *request));
                   auto answer = std::make_unique<ModelStreamInferResponse>();
                   EncodeModelInferResponse(*result, answer->mutable_infer_response());
                   Answer(std::move(answer));
                 });
}

void StreamInferReactor::Answer(std::unique_ptr<ModelStreamInferResponse> answer) {
  Actions actions;
  {
    MutexLock lock(mu_);
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
