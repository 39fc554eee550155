// StreamInferReactor: one ModelStreamInfer call. Reads requests continuously, hands each to the
// InferenceServer facade as soon as it arrives (many in flight at once), and writes each answer
// (a response, or an error_message for that request; the stream itself stays OK) as it
// completes, one write at a time, in completion order. Reading pauses while
// `max_in_flight` requests are unanswered. The call is admitted once, when it opens; each
// request is traced and access-logged by the RequestHandler as a unary call is; a client that
// cancels or goes away cancels every request still queued. Created by InferenceService;
// deletes itself in OnDone. Thread-safe: reactions run on gRPC threads, completions on model
// workers.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>

#include "core/mutex.h"
#include "grpc/grpc_service.grpc.pb.h"
#include "handler/request_handler.h"

namespace inferd::observability {
class PayloadLogger;
}

namespace inferd::grpc {

class StreamInferReactor final
    : public ::grpc::ServerBidiReactor<inference::ModelInferRequest,
                                       inference::ModelStreamInferResponse> {
 public:
  // `handler` (and `payload_logger`, if any) are not owned and must outlive the call. Admits
  // the call, then starts reading (or finishes at once with the rejection).
  StreamInferReactor(handler::RequestHandler* handler, ::grpc::CallbackServerContext* ctx,
                     int max_in_flight, observability::PayloadLogger* payload_logger = nullptr);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override EXCLUDES(mu_);
  void OnDone() override;

 private:
  // What to do once mu_ is released (gRPC operations are never started under the lock).
  struct Actions {
    inference::ModelInferRequest* read = nullptr;
    const inference::ModelStreamInferResponse* write = nullptr;
    bool finish = false;
  };

  void Submit(std::shared_ptr<const inference::ModelInferRequest> request) EXCLUDES(mu_);
  // Logs and traces one request's end, then queues its answer.
  void Answer(uint64_t serial, handler::CallRecord& record, const ::grpc::Status& status,
              std::unique_ptr<inference::ModelStreamInferResponse> answer) EXCLUDES(mu_);
  // Starts the next read into a fresh message, unless paused or done.
  void MaybeRead(Actions& actions) REQUIRES(mu_);
  void MaybeFinish(Actions& actions) REQUIRES(mu_);
  void Run(const Actions& actions);

  handler::RequestHandler* const handler_;
  ::grpc::CallbackServerContext* const ctx_;
  const int max_in_flight_;
  observability::PayloadLogger* const payload_logger_;  // null = no payload logging

  Mutex mu_;
  std::shared_ptr<inference::ModelInferRequest> reading_ GUARDED_BY(mu_);  // the pending read
  bool read_pending_ GUARDED_BY(mu_) = false;
  bool reads_done_ GUARDED_BY(mu_) = false;  // the client half-closed (or the call ended)
  int in_flight_ GUARDED_BY(mu_) = 0;        // submitted, not yet answered
  std::deque<std::unique_ptr<inference::ModelStreamInferResponse>> writes_ GUARDED_BY(mu_);
  bool writing_ GUARDED_BY(mu_) = false;        // writes_.front() is being written
  bool writes_failed_ GUARDED_BY(mu_) = false;  // the call is broken: drop further answers
  bool finished_ GUARDED_BY(mu_) = false;
  bool cancelled_ GUARDED_BY(mu_) = false;  // the client cancelled or went away
  uint64_t next_serial_ GUARDED_BY(mu_) = 0;
  // The requests in the server, by serial: what OnCancel cancels.
  std::unordered_map<uint64_t, std::shared_ptr<handler::InferCall>> live_ GUARDED_BY(mu_);
};

}  // namespace inferd::grpc
