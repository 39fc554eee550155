// UnaryCall: the reactor of one unary RPC of InferenceService. It keeps the call's
// handler::CallRecord, so that every RPC is admitted, access-logged and (for inference) traced
// by the RequestHandler exactly as an HTTP request is, and it notices a client that cancels or
// goes away (OnCancel) and cancels the inference the call queued, so it never runs.
// Created per RPC by InferenceService; deletes itself when gRPC is done with it (OnDone).
// Complete() may be called from any thread, exactly once.
#pragma once

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>
#include <string_view>

#include "handler/request_handler.h"

namespace inferd::grpc {

class UnaryCall final : public ::grpc::ServerUnaryReactor {
 public:
  // `rpc` is the method's name ("ModelInfer"); `handler` must outlive the call.
  UnaryCall(handler::RequestHandler* handler, ::grpc::CallbackServerContext* ctx,
            std::string_view rpc);

  // Admission for `api` (credentials, rate limit). On a rejection, completes the call with the
  // matching status and returns false.
  bool Admit(security::ApiCategory api);

  handler::CallRecord& record() { return record_; }
  ::grpc::CallbackServerContext* context() { return ctx_; }

  // Finishes the RPC with `status`; `bytes_in`/`bytes_out` are the message sizes for the
  // access log (computed only when it is on).
  void Complete(const ::grpc::Status& status, const google::protobuf::Message* in = nullptr,
                const google::protobuf::Message* out = nullptr);

  void OnCancel() override { record_.Cancel(); }
  void OnDone() override { delete this; }

 private:
  handler::RequestHandler* const handler_;
  ::grpc::CallbackServerContext* const ctx_;
  const std::string_view rpc_;
  handler::CallRecord record_;
};

// A metadata value the call's client sent, by lower-case name ("" when absent): `traceparent`
// (W3C trace context), `x-request-id` (the payload log's event id, as the HTTP header is).
std::string_view ClientMetadata(const ::grpc::ServerContextBase& ctx, std::string_view name);

// The call's deadline (the client's grpc-timeout) on the steady clock; max(): none.
handler::SteadyClock::time_point DeadlineOf(const ::grpc::ServerContextBase& ctx);

// "ipv4:127.0.0.1:5555" → "127.0.0.1", "ipv6:[::1]:5555" → "::1": the address as the HTTP
// frontend writes it, so one client's calls over both count against one rate-limit bucket.
std::string PeerAddress(std::string_view peer);

// Admission of a call, unary or streaming: nullopt to go on, else the status to finish it with
// (UNAUTHENTICATED, PERMISSION_DENIED, or RESOURCE_EXHAUSTED with `retry-after` trailing
// metadata added to `ctx`).
std::optional<::grpc::Status> AdmitCall(const handler::RequestHandler& handler,
                                        ::grpc::ServerContextBase* ctx, security::ApiCategory api);

// The access log line and the trace of one answered call (or one request of a stream) of RPC
// `path`, finished with `status` and an answer of `bytes_out` bytes.
void ObserveCall(const handler::RequestHandler& handler, const handler::CallRecord& record,
                 const ::grpc::ServerContextBase& ctx, std::string_view path,
                 const ::grpc::Status& status, uint64_t bytes_out);

}  // namespace inferd::grpc
