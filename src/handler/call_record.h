// CallRecord: what one call did — when it started, the model it named, its stage timings and
// its trace identity — kept by the transport while it serves the call and handed to
// RequestHandler::FinishCall, which writes the access log line and exports the trace. One
// shape for HTTP requests and gRPC calls, so both are logged and traced alike. Inference calls
// also carry an InferCall: the state the facade and the scheduler share with the transport
// (the cancellation flag, the facade's observation), allocated once per call.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "observability/request_trace.h"
#include "observability/trace_context.h"
#include "server/inference_server.h"

namespace inferd::handler {

using SteadyClock = std::chrono::steady_clock;

inline uint64_t UnixNanos() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Shared by the transport (which cancels when its client goes away), the facade (which fills
// `observation`) and the scheduler (which drops a cancelled request unrun). One allocation;
// the request's `cancelled` pointer and the facade's observation pointer alias it.
struct InferCall {
  std::atomic<bool> cancelled{false};
  server::InferObservation observation;
};

// Reset for every call (the transport assigns a fresh one).
struct CallRecord {
  SteadyClock::time_point start;
  uint64_t start_unix_ns = 0;
  uint64_t body_bytes = 0;  // request bytes as read
  std::string model;        // inference calls only
  int64_t version = 0;
  std::shared_ptr<InferCall> infer;  // inference calls only
  observability::InferTraceTimes times;
  bool traced = false;
  observability::TraceId trace_id{};
  observability::SpanId root_span{}, remote_parent{};
  // The client's valid `traceparent`, traced or not: passed on to remote steps when this
  // server does not trace the call itself.
  std::optional<observability::TraceParent> client_parent;
  // The transport's deadline for the call (gRPC's); max(): none.
  SteadyClock::time_point deadline = SteadyClock::time_point::max();

  // Cancels the call's queued inference, if any: it is never run.
  void Cancel() const {
    if (infer) infer->cancelled.store(true);
  }
};

// The wall time for a trace's span edges: read only for a traced call (0 otherwise), so an
// untraced request does not pay for the clock.
inline uint64_t TraceNanos(const CallRecord& record) { return record.traced ? UnixNanos() : 0; }

// How a call ended, as the transport answered it.
struct CallOutcome {
  std::string_view method;  // HTTP method, or "GRPC"
  std::string_view path;    // HTTP target, or the RPC's full method name
  int status = 0;           // the protocol's status: HTTP status code, or gRPC status code
  bool error = false;       // the call failed (HTTP >= 400, gRPC code != OK)
  uint64_t bytes_out = 0;   // response body bytes
  std::string_view remote;  // peer address, as the transport writes it
};

}  // namespace inferd::handler
