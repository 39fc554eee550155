#include "http/http_session.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <memory_resource>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/compile.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/duration.h"
#include "http/connection_stream.h"
#include "http/control_endpoints.h"
#include "http/handler_memory.h"
#include "http/jobs_http.h"
#include "http/pool_allocator.h"
#include "http/router.h"
#include "observability/logging.h"
#include "observability/payload_logger.h"
#include "protocol/v2_json_codec.h"

namespace inferd::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
// Requests keep their header fields in the session's pool (see PoolAllocator).
using RequestFields = bhttp::basic_fields<PoolAllocator<char>>;
using Request = bhttp::request<bhttp::string_body, RequestFields>;
using Response = bhttp::response<bhttp::string_body>;
using handler::CallRecord;
using handler::RequestHandler;

constexpr std::string_view kHeaderLength = "Inference-Header-Content-Length";
constexpr std::string_view kTraceParent = "traceparent";
constexpr std::string_view kJobCallback = "Inferd-Job-Callback";
constexpr size_t kFirstReadBytes = 4096;
// Request body buffers up to this capacity are kept for the connection's next request.
constexpr size_t kKeptBodyBytes = 64 * 1024;

Method MethodOf(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get: return Method::kGet;
    case bhttp::verb::head: return Method::kHead;
    case bhttp::verb::post: return Method::kPost;
    case bhttp::verb::delete_: return Method::kDelete;
    default: return Method::kOther;
  }
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(TcpSocket socket, ListenerState* state)
      : stream_(std::move(socket), state->tls_context.get(),
                std::chrono::seconds(std::min(state->options.header_timeout_seconds,
                                              state->options.idle_timeout_seconds)),
                [this] {
                  // A request still waiting for its answer: watch for a hang-up.
                  if (answering_ && !infer_done_) WatchForDisconnect();
                }),
        state_(state),
        options_(state->options),
        handler_(state->handler) {
    state_->connections.fetch_add(1);
    if (!options_.metrics_only) handler_->connections().Opened();
  }
  ~Session() {
    if (answering_) state_->RequestFinished();
    if (!options_.metrics_only) handler_->connections().Closed();
    state_->connections.fetch_sub(1);
  }

  void Run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->stream_.tls()) return self->Handshake();
      self->DoRead();
    });
  }

 private:
  // TLS first, within the header timeout: a client that connects and stalls, or speaks
  // plaintext HTTP to the TLS port, is closed without an answer.
  void Handshake() {
    stream_.expires_after(std::chrono::seconds(options_.header_timeout_seconds));
    stream_.AsyncHandshake([self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        spdlog::debug("TLS handshake failed: {}", ec.message());
        return self->Close();
      }
      self->DoRead();
    });
  }

  // Waits (idle timeout) for the first byte of the next request, then gives its header the
  // shorter header timeout, so a client that trickles a header cannot hold the connection.
  void DoRead() {
    // The new message's body starts as the buffer the last request left (see TakeBody).
    // Its header fields come from the connection's pool.
    parser_.emplace(std::piecewise_construct, std::make_tuple(std::move(next_body_)),
                    std::make_tuple(PoolAllocator<char>(&header_pool_)));
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(options_.max_header_bytes);
    if (buffer_.size() > 0) {  // a pipelined request is already here: parse it from the queue
      return net::post(stream_.get_executor(),
                       InMemory([self = shared_from_this()] { self->Parse(); }));
    }
    stream_.expires_after(std::chrono::seconds(options_.idle_timeout_seconds));
    // Asio tries the read at once, and right after an answer the next request has seldom
    // arrived: started from the queue, after the handlers already there, it more often finds
    // the request than a would-block (half as many wasted receives at 64 connections).
    net::post(stream_.get_executor(), InMemory([self = shared_from_this()] {
                self->stream_.async_read_some(
                    self->buffer_.prepare(kFirstReadBytes),
                    self->InMemory([self](beast::error_code ec, size_t n) {
                      if (ec) return self->OnRead(ec);
                      self->buffer_.commit(n);
                      self->Parse();
                    }));
              }));
  }

  // Parses what the buffer holds, without I/O: a request that arrived whole (the usual case)
  // goes on to OnRead at once, where Beast's reads would pass the header and then the body
  // through the io_context's queue, one round each. What is missing is read: the header
  // within the header timeout, the body within the idle timeout.
  void Parse() {
    if (!parser_->is_header_done()) {
      beast::error_code ec;
      buffer_.consume(parser_->put(buffer_.data(), ec));
      if (ec == bhttp::error::need_more) return ReadHeader();
      if (ec) return OnRead(ec);
      PrepareBody();
    }
    ParseBody();
  }

  void ParseBody() {
    while (!parser_->is_done() && buffer_.size() > 0) {
      beast::error_code ec;
      const size_t n = parser_->put(buffer_.data(), ec);
      buffer_.consume(n);
      if (ec == bhttp::error::need_more || (!ec && n == 0)) break;
      if (ec) return OnRead(ec);
    }
    if (parser_->is_done()) return OnRead({});
    stream_.expires_after(std::chrono::seconds(options_.idle_timeout_seconds));
    bhttp::async_read(stream_, buffer_, *parser_,
                      InMemory([self = shared_from_this()](beast::error_code ec, size_t) {
                        self->OnRead(ec);
                      }));
  }

  void ReadHeader() {
    stream_.expires_after(std::chrono::seconds(options_.header_timeout_seconds));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             InMemory([self = shared_from_this()](beast::error_code ec, size_t) {
                               if (ec) return self->OnRead(ec);
                               self->PrepareBody();
                               self->ParseBody();
                             }));
  }

  // Room for the JSON parser's padding, so a tensor body is parsed where it lies, uncopied.
  void PrepareBody() {
    if (auto length = parser_->content_length(); length && *length <= options_.max_body_bytes) {
      parser_->get().body().reserve(*length + protocol::kRequestBodyPadding);
    }
  }

  void OnRead(beast::error_code ec) {
    if (IsConnectionGone(ec)) return Close();
    stream_.no_timeout();  // the server's own time does not count against the client
    record_ = RequestHandler::StartCall(0);
    if (!answering_) {
      answering_ = true;
      state_->RequestStarted();
    }
    if (ec == bhttp::error::body_limit) {
      return SendError(bhttp::status::payload_too_large,
                       fmt::format("request body exceeds the limit of {} bytes",
                                   options_.max_body_bytes),
                       /*keep_alive=*/false);
    }
    if (ec == bhttp::error::header_limit) {
      return SendError(bhttp::status::request_header_fields_too_large,
                       fmt::format("request header exceeds the limit of {} bytes",
                                   options_.max_header_bytes),
                       false);
    }
    if (ec) {
      return SendError(bhttp::status::bad_request,
                       fmt::format("malformed HTTP request: {}", ec.message()), false);
    }
    keep_alive_ = parser_->keep_alive();  // from the parse's own flags, without a field search
    request_ = parser_->release();
    record_.body_bytes = request_.body().size();
    version_ = request_.version();
    Dispatch();
  }

  void Dispatch() {
    auto route = MatchRoute(request_.target());
    if (!route.ok()) return SendStatus(route.status());
    if (options_.metrics_only && route->endpoint != Endpoint::kMetrics) {
      return SendStatus(NotFound(fmt::format("no endpoint at '{}' on the metrics port",
                                             std::string(request_.target()))));
    }
    const Method method = MethodOf(request_.method());
    const bool method_ok =
        method == route->method || (route->method == Method::kGet && method == Method::kHead) ||
        (route->also_post && method == Method::kPost) ||
        (route->also_delete && method == Method::kDelete);
    if (!method_ok) {
      Response res = MakeResponse(bhttp::status::method_not_allowed,
                                  protocol::EncodeError(fmt::format(
                                      "method {} is not allowed on {}",
                                      std::string(request_.method_string()),
                                      std::string(request_.target()))));
      res.set(bhttp::field::allow, route->method == Method::kPost ? "POST"
                                   : route->also_post               ? "GET, HEAD, POST"
                                   : route->also_delete             ? "GET, HEAD, DELETE"
                                                                    : "GET, HEAD");
      return Write(std::move(res));
    }
    if (handler_->admission_enabled()) {
      auto rejection = handler_->Admit(
          ApiCategoryOf(route->endpoint),
          [this](std::string_view name) -> std::optional<std::string_view> {
            auto it = request_.find(name);
            if (it == request_.end()) return std::nullopt;
            return it->value();
          },
          PeerAddress());
      if (rejection) return SendRejection(*rejection);
    }

    switch (route->endpoint) {
      case Endpoint::kModelInfer:
        return HandleInfer(std::move(route).value());
      case Endpoint::kRepositoryLoad:
      case Endpoint::kRepositoryUnload:
        return HandleRepositoryControl(*route);
      default:
        return WriteAnswer(AnswerControl(
            *handler_, options_,
            {.route = *route, .method = method, .target = request_.target(),
             .body = request_.body(), .authorization = Header("authorization")}));
    }
  }

  void HandleRepositoryControl(const Route& route) {
    const bool is_load = route.endpoint == Endpoint::kRepositoryLoad;
    auto config_override = ParseRepositoryControlBody(request_.body(), is_load);
    if (!config_override.ok()) return SendStatus(config_override.status());
    // The handler loads on its control thread; the answer comes back to this connection's thread.
    auto answer = [self = shared_from_this()](Status s) {
      net::post(self->stream_.get_executor(), [self, s = std::move(s)] {
        if (!s.ok()) return self->SendStatus(s);
        self->WriteAnswer(EmptyAnswer(200));
      });
    };
    if (is_load) {
      handler_->LoadModel(route.model, std::move(config_override).value(), std::move(answer));
    } else {
      handler_->UnloadModel(route.model, std::move(answer));
    }
  }

  // While the model works, notice a client that hangs up, so the request it queued is
  // cancelled and never runs (started by the sweeper a tick after the request queued). When the socket turns readable, read (through TLS when the
  // connection has it): an end of stream — a plain close, a cut, or a TLS close_notify — is a
  // client gone; data is a pipelined request, kept in the buffer for the next read. The read
  // may still be pending when the answer is written; the next request's read then waits for it.
  void WatchForDisconnect() {
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

  void OnWatchRead(beast::error_code ec, size_t n,
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

  std::optional<std::string_view> Header(std::string_view name) const {
    auto it = request_.find(name);
    if (it == request_.end()) return std::nullopt;
    return it->value();
  }

  void WriteAnswer(HttpAnswer answer) {
    Response res = MakeResponse(static_cast<bhttp::status>(answer.status), std::move(answer.body));
    if (answer.content_type.empty()) {
      res.erase(bhttp::field::content_type);
    } else {
      res.set(bhttp::field::content_type, answer.content_type);
    }
    for (const auto& [name, value] : answer.headers) res.set(name, value);
    Write(std::move(res));
  }

  void HandleInfer(Route route) {
    // The two fields every inference reads, found in one pass over the fields rather than a
    // search of the field set each (neither is a field Beast knows by name).
    std::optional<std::string_view> header_length_field;
    std::optional<std::string_view> traceparent;
    for (const auto& field : request_) {
      if (field.name() != bhttp::field::unknown) continue;
      if (!header_length_field && beast::iequals(field.name_string(), kHeaderLength)) {
        header_length_field = field.value();
      } else if (!traceparent && beast::iequals(field.name_string(), kTraceParent)) {
        traceparent = field.value();
      }
    }
    std::optional<size_t> header_length;
    if (header_length_field) {
      const std::string_view v = *header_length_field;
      size_t n = 0;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || ptr != v.data() + v.size()) {
        return SendStatus(InvalidArgument(
            fmt::format("{} header '{}' is not a byte count", kHeaderLength, v)));
      }
      header_length = n;
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
    handler_->StartTrace(record_, traceparent.value_or(std::string_view()));
    const auto decode_start = handler::SteadyClock::now();
    std::shared_ptr<std::string> body = TakeBody();
    log_id_.clear();
    if (options_.payload_logger != nullptr && options_.payload_logger->Sample()) {
      auto request_id = Header("x-request-id");
      log_id_ = request_id ? std::string(*request_id)
                           : observability::PayloadLogger::NewEventId();
      auto content_type = Header("content-type");
      options_.payload_logger->LogRequest(
          {log_id_, route.model, route.version,
           std::string(content_type.value_or(header_length ? "application/octet-stream"
                                                           : "application/json")),
           header_length, body});
    }
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

  // The request body as a shared buffer the decoded tensors can borrow. The previous request's
  // buffer and its control block are reused when nothing holds them any more (the answer is
  // written and no payload log or queued copy kept them); the body read into request_ swaps
  // its bytes in, and the next request's body starts in the old buffer. Only buffers up to
  // kKeptBodyBytes are kept, so one large request does not pin its size to the connection.
  std::shared_ptr<std::string> TakeBody() {
    std::shared_ptr<std::string> body = ReuseOrMake(spare_body_);
    body->swap(request_.body());
    next_body_ = std::move(request_.body());
    next_body_.clear();
    if (next_body_.capacity() > kKeptBodyBytes) next_body_ = std::string();
    if (body->capacity() <= kKeptBodyBytes) spare_body_ = body;
    return body;
  }

  // `spare` itself when this session holds its only reference (then reset for reuse), else a
  // new T. The acquire fence pairs with the release by which another thread dropped its
  // reference, so its last reads of the object happen before this reuse.
  template <typename T>
  static std::shared_ptr<T> ReuseOrMake(std::shared_ptr<T>& spare) {
    if (spare != nullptr && spare.use_count() == 1) {
      std::atomic_thread_fence(std::memory_order_acquire);
      std::shared_ptr<T> reused = std::move(spare);
      Reset(*reused);
      return reused;
    }
    spare.reset();
    return std::make_shared<T>();
  }
  static void Reset(std::string& body) { body.clear(); }
  static void Reset(handler::InferCall& call) {
    call.cancelled.store(false);
    call.observation = {};
  }

  // `handler` with its socket operations allocated from this connection's handler_memory_.
  template <typename Handler>
  WithHandlerMemory<Handler> InMemory(Handler handler) {
    return WithHandlerMemory<Handler>(handler_memory_, std::move(handler));
  }

  void OnInferDone(Result<InferenceResponse> result) {
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

  // A successful inference's answer (in answer_), written without Beast's serializer: the
  // head is formatted into head_ and both go out in one gather write. Both buffers keep their
  // capacity across the connection's requests.
  void WriteInferAnswer() {
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
    net::async_write(stream_, buffers,
                     InMemory([self = shared_from_this()](beast::error_code ec, size_t) {
                       self->OnWrite(ec);
                     }));
  }

  // The answer went out in full with no wait. Inside the model's inline call (see HandleInfer)
  // the next read starts once that call has returned.
  void WriteDone() {
    if (in_infer_call_) {
      write_done_ = true;
      return;
    }
    OnWrite({});
  }

  Response MakeResponse(bhttp::status status, std::string body) {
    Response res{status, version_};
    res.set(bhttp::field::server, "inferd");
    res.set(bhttp::field::content_type, "application/json");
    if (state_->draining.load()) keep_alive_ = false;
    res.keep_alive(keep_alive_);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

  void SendStatus(const Status& status) { WriteAnswer(ErrorAnswer(status)); }

  // The peer's IP address (for the rate limit), without the port.
  std::string PeerAddress() {
    beast::error_code ec;
    auto peer = stream_.socket().remote_endpoint(ec);
    return ec ? std::string("?") : peer.address().to_string();
  }

  void SendRejection(const handler::Rejection& rejection) {
    using Kind = handler::Rejection::Kind;
    const bhttp::status status = rejection.kind == Kind::kUnauthenticated ? bhttp::status::unauthorized
                                 : rejection.kind == Kind::kPermissionDenied
                                     ? bhttp::status::forbidden
                                     : bhttp::status::too_many_requests;
    Response res = MakeResponse(status, protocol::EncodeError(rejection.message));
    if (rejection.kind == Kind::kUnauthenticated) {
      res.set(bhttp::field::www_authenticate, "Bearer realm=\"inferd\"");
    }
    if (rejection.kind == Kind::kRateLimited) {
      res.set(bhttp::field::retry_after, std::to_string(rejection.retry_after_s));
    }
    Write(std::move(res));
  }

  void SendError(bhttp::status status, const std::string& message, bool keep_alive) {
    keep_alive_ = keep_alive;
    Write(MakeResponse(status, protocol::EncodeError(message)));
  }

  void Write(Response res) {
    if (request_.method() == bhttp::verb::head) res.body().clear();
    if (record_.traced) res.set(kTraceParent, RequestHandler::TraceParentOf(record_));
    Observe(static_cast<int>(res.result_int()), res.body().size());
    response_ = std::move(res);
    stream_.expires_after(std::chrono::seconds(options_.idle_timeout_seconds));
    bhttp::async_write(stream_, response_,
                       InMemory([self = shared_from_this()](beast::error_code ec, size_t) {
                         self->OnWrite(ec);
                       }));
  }

  // The access log line and the trace of the request, answered with `status` and a body of
  // `bytes_out` bytes.
  void Observe(int status, size_t bytes_out) {
    if (!observability::AccessLogEnabled() && !record_.traced) return;
    std::string remote;
    beast::error_code ec;
    if (auto peer = stream_.socket().remote_endpoint(ec); !ec) {
      remote = fmt::format("{}:{}", peer.address().to_string(), peer.port());
    }
    handler::CallOutcome outcome;
    outcome.method = request_.method_string();
    outcome.path = request_.target();
    outcome.status = status;
    outcome.error = status >= 400;
    outcome.bytes_out = bytes_out;
    outcome.remote = remote;
    handler_->FinishCall(record_, outcome);
  }

  void OnWrite(beast::error_code ec) {
    if (answering_) {
      answering_ = false;
      state_->RequestFinished();
    }
    if (ec) return Close();
    if (!keep_alive_) return CloseAfterAnswer();
    request_ = {};
    response_ = {};
    spare_infer_ = std::move(record_.infer);
    if (watch_reading_) {  // a disconnect watch is reading: the next read follows it
      resume_after_watch_ = true;
      return;
    }
    if (peer_gone_) return Close();
    DoRead();
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // After an answer that ends the connection: over TLS, close_notify first (bounded by the
  // header timeout), so the client can tell the end from a cut.
  void CloseAfterAnswer() {
    if (!stream_.tls()) return Close();
    stream_.expires_after(std::chrono::seconds(options_.header_timeout_seconds));
    stream_.AsyncShutdown([self = shared_from_this()](beast::error_code) { self->Close(); });
  }

  HandlerMemory handler_memory_;  // the socket operations' state (see InMemory)
  ConnectionStream stream_;
  ListenerState* const state_;
  const HttpServer::Options& options_;
  RequestHandler* const handler_;
  beast::flat_buffer buffer_;
  // Declared before the parser and the request, whose header fields it holds.
  std::pmr::unsynchronized_pool_resource header_pool_;
  std::optional<bhttp::request_parser<bhttp::string_body, PoolAllocator<char>>> parser_;
  Request request_;
  Response response_;
  CallRecord record_;
  std::shared_ptr<Session> in_flight_;  // this session, held while its inference runs
  std::shared_ptr<std::string> spare_body_;           // last request's body, for reuse
  std::string next_body_;  // an empty buffer with capacity, for the next request's body
  std::shared_ptr<handler::InferCall> spare_infer_;  // last request's InferCall, for reuse
  InferenceRequest answer_shape_;  // the requested outputs and parameters, for the encoder
  protocol::EncodedInferResponse answer_;  // the last inference answer's body (buffer reused)
  std::string head_;                       // its status line and headers (buffer reused)
  std::string log_id_;  // the payload log's ce-id of the current request; "" = not sampled
  uint64_t request_serial_ = 0;    // which request a disconnect watch belongs to
  bool keep_alive_ = true;
  bool answering_ = false;  // a request was read and its answer is not yet written
  bool infer_done_ = false;  // the current inference request has its result
  bool watch_reading_ = false;       // a disconnect watch's read is pending
  bool resume_after_watch_ = false;  // the next request's read waits for that read
  bool peer_gone_ = false;           // that read found the end of the stream
  bool in_infer_call_ = false;  // inside handler_->Infer (a model may answer inline)
  bool write_done_ = false;     // an answer written inline there, OnWrite still to run
  unsigned version_ = 11;
};

}  // namespace

void StartSession(TcpSocket socket, ListenerState* state) {
  std::make_shared<Session>(std::move(socket), state)->Run();
}

}  // namespace inferd::http
