// RequestRecord: what one HTTP request did (timings, model, trace identity), filled in by the
// session in http_session.cc while it serves the request, and ObserveResponse, which turns it
// into the access log line and the exported trace once the answer is ready. Internal to
// src/http.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "core/duration.h"
#include "observability/request_trace.h"
#include "observability/tracer.h"
#include "server/inference_server.h"

namespace inferd::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using SteadyClock = std::chrono::steady_clock;

inline uint64_t UnixNanos() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}


// Reset for every request.
struct RequestRecord {
  SteadyClock::time_point start;
  uint64_t start_unix_ns = 0;
  uint64_t body_bytes = 0;
  std::string model;
  int64_t version = 0;
  std::shared_ptr<server::InferObservation> observation;  // inference requests only
  observability::InferTraceTimes times;
  bool traced = false;
  observability::TraceId trace_id{};
  observability::SpanId root_span{}, remote_parent{};
};

// The access log line (when enabled) and the trace (when `record` is traced; `tracer` is then
// non-null) of `request` answered with `res`. `peer` gives the client's address for the log.
void ObserveResponse(const RequestRecord& record, const Request& request, const Response& res,
                     observability::Tracer* tracer, const boost::asio::ip::tcp::socket& peer);

}  // namespace inferd::http
