#include "http/http_session.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/status.h"
#include "handler/admission.h"
#include "handler/call_record.h"
#include "handler/request_handler.h"
#include "http/control_endpoints.h"
#include "http/http_answer.h"
#include "http/pool_allocator.h"
#include "http/router.h"
#include "http/session.h"
#include "observability/logging.h"
#include "protocol/v2_json_codec.h"

namespace inferd::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using handler::RequestHandler;

Method MethodOf(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get:
      return Method::kGet;
    case bhttp::verb::head:
      return Method::kHead;
    case bhttp::verb::post:
      return Method::kPost;
    case bhttp::verb::delete_:
      return Method::kDelete;
    default:
      return Method::kOther;
  }
}

}  // namespace

Session::Session(TcpSocket socket, ListenerState* state)
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

Session::~Session() {
  if (answering_) state_->RequestFinished();
  if (!options_.metrics_only) handler_->connections().Closed();
  state_->connections.fetch_sub(1);
}

void Session::Run() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (self->stream_.tls()) return self->Handshake();
    self->DoRead();
  });
}

void Session::Handshake() {
  stream_.expires_after(std::chrono::seconds(options_.header_timeout_seconds));
  stream_.AsyncHandshake([self = shared_from_this()](beast::error_code ec) {
    if (ec) {
      spdlog::debug("TLS handshake failed: {}", ec.message());
      return self->Close();
    }
    self->DoRead();
  });
}

void Session::DoRead() {
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
              self->stream_.async_read_some(self->buffer_.prepare(kFirstReadBytes),
                                            self->InMemory([self](beast::error_code ec, size_t n) {
                                              if (ec) return self->OnRead(ec);
                                              self->buffer_.commit(n);
                                              self->Parse();
                                            }));
            }));
}

void Session::Parse() {
  if (!parser_->is_header_done()) {
    beast::error_code ec;
    buffer_.consume(parser_->put(buffer_.data(), ec));
    if (ec == bhttp::error::need_more) return ReadHeader();
    if (ec) return OnRead(ec);
    PrepareBody();
  }
  ParseBody();
}

void Session::ParseBody() {
  while (!parser_->is_done() && buffer_.size() > 0) {
    beast::error_code ec;
    const size_t n = parser_->put(buffer_.data(), ec);
    buffer_.consume(n);
    if (ec == bhttp::error::need_more || (!ec && n == 0)) break;
    if (ec) return OnRead(ec);
  }
  if (parser_->is_done()) return OnRead({});
  stream_.expires_after(std::chrono::seconds(options_.idle_timeout_seconds));
  bhttp::async_read(
      stream_, buffer_, *parser_,
      InMemory([self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); }));
}

void Session::ReadHeader() {
  stream_.expires_after(std::chrono::seconds(options_.header_timeout_seconds));
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           InMemory([self = shared_from_this()](beast::error_code ec, size_t) {
                             if (ec) return self->OnRead(ec);
                             self->PrepareBody();
                             self->ParseBody();
                           }));
}

void Session::PrepareBody() {
  if (auto length = parser_->content_length(); length && *length <= options_.max_body_bytes) {
    parser_->get().body().reserve(*length + protocol::kRequestBodyPadding);
  }
}

void Session::OnRead(beast::error_code ec) {
  if (IsConnectionGone(ec)) return Close();
  stream_.no_timeout();  // the server's own time does not count against the client
  record_ = RequestHandler::StartCall(0);
  if (!answering_) {
    answering_ = true;
    state_->RequestStarted();
  }
  if (ec == bhttp::error::body_limit) {
    return SendError(
        bhttp::status::payload_too_large,
        fmt::format("request body exceeds the limit of {} bytes", options_.max_body_bytes),
        /*keep_alive=*/false);
  }
  if (ec == bhttp::error::header_limit) {
    return SendError(
        bhttp::status::request_header_fields_too_large,
        fmt::format("request header exceeds the limit of {} bytes", options_.max_header_bytes),
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

std::optional<std::string_view> Session::Header(std::string_view name) const {
  auto it = request_.find(name);
  if (it == request_.end()) return std::nullopt;
  return it->value();
}

std::string Session::PeerAddress() {
  beast::error_code ec;
  auto peer = stream_.socket().remote_endpoint(ec);
  return ec ? std::string("?") : peer.address().to_string();
}

void Session::Dispatch() {
  auto route = MatchRoute(request_.target());
  if (!route.ok()) return SendStatus(route.status());
  if (options_.metrics_only && route->endpoint != Endpoint::kMetrics) {
    return SendStatus(NotFound(
        fmt::format("no endpoint at '{}' on the metrics port", std::string(request_.target()))));
  }
  const Method method = MethodOf(request_.method());
  const bool method_ok = method == route->method ||
                         (route->method == Method::kGet && method == Method::kHead) ||
                         (route->also_post && method == Method::kPost) ||
                         (route->also_delete && method == Method::kDelete);
  if (!method_ok) {
    Response res =
        MakeResponse(bhttp::status::method_not_allowed,
                     protocol::EncodeError(fmt::format("method {} is not allowed on {}",
                                                       std::string(request_.method_string()),
                                                       std::string(request_.target()))));
    res.set(bhttp::field::allow, route->method == Method::kPost ? "POST"
                                 : route->also_post             ? "GET, HEAD, POST"
                                 : route->also_delete           ? "GET, HEAD, DELETE"
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
      return WriteAnswer(AnswerControl(*handler_, options_,
                                       {.route = *route,
                                        .method = method,
                                        .target = request_.target(),
                                        .body = request_.body(),
                                        .authorization = Header("authorization")}));
  }
}

void Session::HandleRepositoryControl(const Route& route) {
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

void Session::WriteAnswer(HttpAnswer answer) {
  Response res = MakeResponse(static_cast<bhttp::status>(answer.status), std::move(answer.body));
  if (answer.content_type.empty()) {
    res.erase(bhttp::field::content_type);
  } else {
    res.set(bhttp::field::content_type, answer.content_type);
  }
  for (const auto& [name, value] : answer.headers) res.set(name, value);
  Write(std::move(res));
}

Session::Response Session::MakeResponse(bhttp::status status, std::string body) {
  Response res{status, version_};
  res.set(bhttp::field::server, "inferd");
  res.set(bhttp::field::content_type, "application/json");
  if (state_->draining.load()) keep_alive_ = false;
  res.keep_alive(keep_alive_);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

void Session::SendStatus(const Status& status) { WriteAnswer(ErrorAnswer(status)); }

void Session::SendRejection(const handler::Rejection& rejection) {
  using Kind = handler::Rejection::Kind;
  const bhttp::status status =
      rejection.kind == Kind::kUnauthenticated    ? bhttp::status::unauthorized
      : rejection.kind == Kind::kPermissionDenied ? bhttp::status::forbidden
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

void Session::SendError(bhttp::status status, const std::string& message, bool keep_alive) {
  keep_alive_ = keep_alive;
  Write(MakeResponse(status, protocol::EncodeError(message)));
}

void Session::Write(Response res) {
  if (request_.method() == bhttp::verb::head) res.body().clear();
  if (record_.traced) res.set(kTraceParent, RequestHandler::TraceParentOf(record_));
  Observe(static_cast<int>(res.result_int()), res.body().size());
  response_ = std::move(res);
  stream_.expires_after(std::chrono::seconds(options_.idle_timeout_seconds));
  bhttp::async_write(
      stream_, response_,
      InMemory([self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); }));
}

void Session::Observe(int status, size_t bytes_out) {
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

void Session::OnWrite(beast::error_code ec) {
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

void Session::Close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
}

void Session::CloseAfterAnswer() {
  if (!stream_.tls()) return Close();
  stream_.expires_after(std::chrono::seconds(options_.header_timeout_seconds));
  stream_.AsyncShutdown([self = shared_from_this()](beast::error_code) { self->Close(); });
}

void StartSession(TcpSocket socket, ListenerState* state) {
  std::make_shared<Session>(std::move(socket), state)->Run();
}

}  // namespace inferd::http
