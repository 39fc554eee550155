// AsyncInferCall: one ModelInfer RPC served on grpc++'s async completion-queue API, as Triton
// serves it: an InferPollers thread takes the call off its completion queue and, on that same
// thread, admits it, decodes it and hands it to handler::RequestHandler (an inline-executed model
// answers before the thread polls again). The rest of GRPCInferenceService stays on the callback
// API (InferenceService). The call keeps handler::CallRecord like UnaryCall does, so ModelInfer
// is admitted, rate-limited, traced, payload-logged and access-logged exactly as before, and a
// client that cancels or goes away cancels its queued inference (AsyncNotifyWhenDone).
//
// Lifetime: created by Request() before a call arrives; deleted on the polling thread once gRPC
// has returned its last tag (arrival failed at shutdown, or both Finish and the done notice).
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/mutex.h"
#include "grpc/grpc_service.grpc.pb.h"
#include "handler/request_handler.h"

namespace inferd::observability {
class PayloadLogger;
}

namespace inferd::grpc {

class InferenceService;

class AsyncInferCall {
 public:
  // What every call of one server shares; outlives them all (owned by InferPollers).
  struct Shared {
    InferenceService* service = nullptr;                     // where calls are requested from
    handler::RequestHandler* handler = nullptr;              // admission, tracing, inference
    observability::PayloadLogger* payload_logger = nullptr;  // null = no payload logging
    std::atomic<bool> accepting{true};  // false once shutting down: no new calls requested
    std::atomic<int64_t> live{0};       // call objects alive (requested or in progress)
    Mutex live_mu;                      // pairs with `none_live` (live itself is atomic)
    CondVar none_live;                  // notified when the last call object goes
  };

  // Asks gRPC for the next ModelInfer call; its events arrive on `cq`.
  static void Request(Shared* shared, ::grpc::ServerCompletionQueue* cq);
  // Handles one tag that `cq->Next()` returned (with its `ok`); every tag a call enqueues.
  static void Handle(void* tag, bool ok);

  AsyncInferCall(const AsyncInferCall&) = delete;
  AsyncInferCall& operator=(const AsyncInferCall&) = delete;

 private:
  enum class Event { kArrived, kFinished, kDone };
  struct Tag {
    AsyncInferCall* call;
    Event event;
  };

  AsyncInferCall(Shared* shared, ::grpc::ServerCompletionQueue* cq);
  ~AsyncInferCall();

  void Start();  // the call has arrived: admit, decode, infer
  void Complete(const ::grpc::Status& status, bool with_response);
  void Unref();

  Shared* const shared_;
  ::grpc::ServerCompletionQueue* const cq_;
  ::grpc::ServerContext ctx_;
  // Shared: decoded tensors borrow raw_input_contents and keep the message alive past the RPC.
  std::shared_ptr<inference::ModelInferRequest> request_;
  inference::ModelInferResponse response_;
  ::grpc::ServerAsyncResponseWriter<inference::ModelInferResponse> responder_;
  // Created before the call is requested and never reassigned, so the done notice (another
  // polling thread) may set its flag while Start() runs.
  const std::shared_ptr<handler::InferCall> infer_;
  handler::CallRecord record_;
  std::string log_id_;        // the payload log's event id; empty = not sampled
  std::atomic<int> refs_{2};  // Finish's tag and the done notice, once arrived
  Tag arrived_{this, Event::kArrived};
  Tag finished_{this, Event::kFinished};
  Tag done_{this, Event::kDone};
};

}  // namespace inferd::grpc
