#include "http/session.h"

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/compile.h>
#include <fmt/format.h>

#include "core/duration.h"
#include "core/inference_request.h"
#include "core/status.h"
#include "handler/call_record.h"
#include "handler/request_handler.h"
#include "http/jobs_http.h"
#include "http/router.h"
#include "jobs/job_manager.h"
#include "observability/payload_logger.h"
#include "protocol/v2_json_codec.h"

namespace inferd::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using handler::RequestHandler;

constexpr std::string_view kHeaderLength = "Inference-Header-Content-Length";
constexpr std::string_view kJobCallback = "Inferd-Job-Callback";
// Request body buffers up to this capacity are kept for the connection's next request.
constexpr size_t kKeptBodyBytes = 64 * 1024;

}  // namespace

// The acquire fence pairs with the release by which another thread dropped its reference, so
// its last reads of the object happen before this reuse.
template <typename T>
std::shared_ptr<T> Session::ReuseOrMake(std::shared_ptr<T>& spare) {
  if (spare != nullptr && spare.use_count() == 1) {
    std::atomic_thread_fence(std::memory_order_acquire);
    std::shared_ptr<T> reused = std::move(spare);
    Reset(*reused);
    return reused;
  }
  spare.reset();
  return std::make_shared<T>();
}

void Session::Reset(std::string& body) { body.clear(); }

void Session::Reset(handler::InferCall& call) {
  call.cancelled.store(false);
  call.observation = {};
}

Status Session::ReadInferFields(std::optional<size_t>& header_length,
                                std::string_view& traceparent) {
  std::optional<std::string_view> header_length_field;
  std::optional<std::string_view> trace_field;
  for (const auto& field : request_) {
    if (field.name() != bhttp::field::unknown) continue;
    if (!header_length_field && beast::iequals(field.name_string(), kHeaderLength)) {
      header_length_field = field.value();
    } else if (!trace_field && beast::iequals(field.name_string(), kTraceParent)) {
      trace_field = field.value();
    }
  }
  traceparent = trace_field.value_or(std::string_view());
  if (header_length_field) {
    const std::string_view v = *header_length_field;
    size_t n = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || ptr != v.data() + v.size()) {
      return InvalidArgument(fmt::format("{} header '{}' is not a byte count", kHeaderLength, v));
    }
    header_length = n;
  }
  return Status::Ok();
}

void Session::LogRequestPayload(const Route& route, std::optional<size_t> header_length,
                                const std::shared_ptr<std::string>& body) {
  log_id_.clear();
  if (options_.payload_logger == nullptr || !options_.payload_logger->Sample()) return;
  auto request_id = Header("x-request-id");
  log_id_ = request_id ? std::string(*request_id) : observability::PayloadLogger::NewEventId();
  auto content_type = Header("content-type");
  options_.payload_logger->LogRequest(
      {log_id_, route.model, route.version,
       std::string(content_type.value_or(header_length ? "application/octet-stream"
                                                       : "application/json")),
       header_length, body});
}

void Session::HandleInfer(Route route) {
  std::optional<size_t> header_length;
  std::string_view traceparent;
  if (Status read = ReadInferFields(header_length, traceparent); !read.ok()) {
    return SendStatus(read);
  }
  // RFC 7240: a preference the server does not support is ignored, so without jobs the
  // request is answered synchronously (and no Preference-Applied says so).
  if (options_.jobs != nullptr) {
    if (auto prefer = Header("prefer"); prefer && PrefersRespondAsync(*prefer)) {
      return WriteAnswer(SubmitJob(*options_.jobs, jobs::OwnerOf(Header("authorization")),
                                   std::move(route.model), route.version,
                                   std::move(request_.body()), header_length,
                                   std::string(Header(kJobCallback).value_or(""))));
    }
  }
  record_.model = route.model;
  record_.version = route.version;
  handler_->StartTrace(record_, traceparent);
  const auto decode_start = handler::SteadyClock::now();
  std::shared_ptr<std::string> body = TakeBody();
  LogRequestPayload(route, header_length, body);
  auto decoded = protocol::DecodeInferRequest(body, header_length);
  record_.times.decode_ns = NanosSince(decode_start);
  if (!decoded.ok()) return SendStatus(decoded.status());
  InferenceRequest request = std::move(decoded).value();
  request.model_name = std::move(route.model);
  request.model_version = route.version;
  record_.infer = ReuseOrMake(spare_infer_);
  infer_done_ = false;

  // What the encoder needs from the request, kept while the request itself goes to a worker.
  answer_shape_.parameters = request.parameters;
  answer_shape_.outputs = request.outputs;

  // The callback holds the session through in_flight_, not in its capture: a capture of one
  // pointer fits std::function's inline storage, a shared_ptr would be allocated. The facade
  // calls `done` exactly once, which releases in_flight_.
  in_flight_ = shared_from_this();
  in_infer_call_ = true;
  handler_->Infer(record_, std::move(request),
                  [session = this](Result<InferenceResponse> result) mutable {
                    std::shared_ptr<Session> self = std::move(session->in_flight_);
                    const uint64_t facade_end = handler::TraceNanos(session->record_);
                    // Back to this connection's I/O thread; encoding happens there, off the
                    // worker thread. When the model ran inline on that thread, dispatch
                    // answers at once, without a hand-off.
                    net::dispatch(self->stream_.get_executor(),
                                  [self, facade_end, result = std::move(result)]() mutable {
                                    self->record_.times.facade_end_unix_ns = facade_end;
                                    self->OnInferDone(std::move(result));
                                  });
                  });
  in_infer_call_ = false;
  if (write_done_) {  // the model ran here and its answer is written
    write_done_ = false;
    return OnWrite({});
  }
  // A model that ran on this thread has answered already: nothing to watch for. Otherwise
  // the watch starts if the request is still waiting after a tick (most are answered first).
  if (!infer_done_) stream_.watch_soon();
}

std::shared_ptr<std::string> Session::TakeBody() {
  std::shared_ptr<std::string> body = ReuseOrMake(spare_body_);
  body->swap(request_.body());
  next_body_ = std::move(request_.body());
  next_body_.clear();
  if (next_body_.capacity() > kKeptBodyBytes) next_body_ = std::string();
  if (body->capacity() <= kKeptBodyBytes) spare_body_ = body;
  return body;
}

void Session::OnInferDone(Result<InferenceResponse> result) {
  infer_done_ = true;
  stream_.cancel_watch();
  if (!result.ok()) return SendStatus(result.status());
  const auto encode_start = handler::SteadyClock::now();
  record_.times.encode_start_unix_ns = handler::TraceNanos(record_);
  protocol::EncodeInferResponseInto(*result, answer_shape_, answer_);
  record_.times.encode_ns = NanosSince(encode_start);
  if (!log_id_.empty()) {  // a copy: answer_'s buffer is reused by the next request
    options_.payload_logger->LogResponse(
        {log_id_, record_.model, record_.version,
         answer_.header_length ? "application/octet-stream" : "application/json",
         answer_.header_length, std::make_shared<const std::string>(answer_.body)});
  }
  WriteInferAnswer();
}

void Session::WriteInferAnswer() {
  if (state_->draining.load()) keep_alive_ = false;
  head_.clear();
  auto out = std::back_inserter(head_);
  fmt::format_to(out,
                 FMT_COMPILE("HTTP/1.{} 200 OK\r\nServer: inferd\r\nContent-Type: {}\r\n"
                             "Content-Length: {}\r\n"),
                 version_ == 10 ? 0 : 1,
                 answer_.header_length ? "application/octet-stream" : "application/json",
                 answer_.body.size());
  if (answer_.header_length) {
    fmt::format_to(out, FMT_COMPILE("{}: {}\r\n"), kHeaderLength, *answer_.header_length);
  }
  if (record_.traced) {
    fmt::format_to(out, "{}: {}\r\n", kTraceParent, RequestHandler::TraceParentOf(record_));
  }
  if (!keep_alive_) {
    head_ += "Connection: close\r\n";
  } else if (version_ == 10) {
    head_ += "Connection: keep-alive\r\n";
  }
  head_ += "\r\n";
  Observe(200, answer_.body.size());
  stream_.expires_after(std::chrono::seconds(options_.idle_timeout_seconds));
  std::array<net::const_buffer, 2> buffers{net::buffer(head_), net::buffer(answer_.body)};
  if (!stream_.tls()) {
    // Most answers fit the socket's send buffer: written here, they complete without a
    // round through the io_context's queue. What does not fit is written asynchronously.
    beast::error_code ec;
    size_t n = stream_.socket().write_some(buffers, ec);
    if (ec && ec != net::error::would_block) return Close();
    if (n == head_.size() + answer_.body.size()) return WriteDone();
    if (n < buffers[0].size()) {
      buffers[0] += n;
    } else {
      buffers[1] += n - buffers[0].size();
      buffers[0] = {};
    }
  }
  net::async_write(
      stream_, buffers,
      InMemory([self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); }));
}

void Session::WriteDone() {
  if (in_infer_call_) {
    write_done_ = true;
    return;
  }
  OnWrite({});
}

void Session::WatchForDisconnect() {
  const uint64_t watched = ++request_serial_;
  stream_.socket().async_wait(
      tcp::socket::wait_read,
      [self = shared_from_this(), watched, infer = record_.infer](beast::error_code ec) {
        if (watched != self->request_serial_ || !self->answering_) return;  // answered
        if (ec) {
          if (ec != net::error::operation_aborted) infer->cancelled.store(true);
          return;
        }
        self->watch_reading_ = true;
        self->stream_.async_read_some(
            self->buffer_.prepare(kFirstReadBytes),
            [self, infer](beast::error_code ec, size_t n) { self->OnWatchRead(ec, n, infer); });
      });
}

void Session::OnWatchRead(beast::error_code ec, size_t n,
                          const std::shared_ptr<handler::InferCall>& infer) {
  watch_reading_ = false;
  if (ec) {
    infer->cancelled.store(true);
    peer_gone_ = true;
  } else {
    buffer_.commit(n);
  }
  if (resume_after_watch_) {  // the answer was written meanwhile
    resume_after_watch_ = false;
    if (peer_gone_) return Close();
    DoRead();
  }
}

}  // namespace inferd::http
