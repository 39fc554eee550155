#include "http/http_session.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "http/connection_stream.h"
#include "http/logging_json.h"
#include "http/metadata_json.h"
#include "http/request_record.h"
#include "http/router.h"
#include "http/status_mapping.h"
#include "observability/logging.h"
#include "observability/request_trace.h"
#include "protocol/v2_json_codec.h"
#include "security/authorizer.h"

namespace inferd::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::string_view kHeaderLength = "Inference-Header-Content-Length";
constexpr std::string_view kTraceParent = "traceparent";
constexpr size_t kFirstReadBytes = 4096;
constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

Method MethodOf(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get: return Method::kGet;
    case bhttp::verb::head: return Method::kHead;
    case bhttp::verb::post: return Method::kPost;
    default: return Method::kOther;
  }
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ListenerState* state)
      : stream_(std::move(socket), state->tls_context.get()),
        state_(state),
        options_(state->options),
        server_(state->server),
        control_pool_(&state->control_pool) {
    state_->connections.fetch_add(1);
    if (!options_.metrics_only) server_->http_connections().Opened();
  }
  ~Session() {
    if (answering_) state_->in_flight.fetch_sub(1);
    if (!options_.metrics_only) server_->http_connections().Closed();
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
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(options_.max_header_bytes);
    if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
    stream_.expires_after(std::chrono::seconds(options_.idle_timeout_seconds));
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->OnRead(ec);
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    stream_.expires_after(std::chrono::seconds(options_.header_timeout_seconds));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               self->OnHeader(ec);
                             });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnRead(ec);
    // Room for the JSON parser's padding, so a tensor body is parsed where it lies, uncopied.
    if (auto length = parser_->content_length(); length && *length <= options_.max_body_bytes) {
      parser_->get().body().reserve(*length + protocol::kRequestBodyPadding);
    }
    stream_.expires_after(std::chrono::seconds(options_.idle_timeout_seconds));
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->OnRead(ec);
                      });
  }

  void OnRead(beast::error_code ec) {
    if (IsConnectionGone(ec)) return Close();
    record_ = RequestRecord{};
    if (!answering_) {
      answering_ = true;
      state_->in_flight.fetch_add(1);
    }
    record_.start = SteadyClock::now();
    record_.start_unix_ns = UnixNanos();
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
    request_ = parser_->release();
    record_.body_bytes = request_.body().size();
    keep_alive_ = request_.keep_alive();
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
        (route->also_post && method == Method::kPost);
    if (!method_ok) {
      Response res = MakeResponse(bhttp::status::method_not_allowed,
                                  protocol::EncodeError(fmt::format(
                                      "method {} is not allowed on {}",
                                      std::string(request_.method_string()),
                                      std::string(request_.target()))));
      res.set(bhttp::field::allow, route->method == Method::kPost ? "POST"
                                   : route->also_post               ? "GET, HEAD, POST"
                                                                    : "GET, HEAD");
      return Write(std::move(res));
    }
    if (options_.authorizer != nullptr && options_.authorizer->enabled()) {
      auto decision = options_.authorizer->Check(
          ApiCategoryOf(route->endpoint),
          [this](std::string_view name) -> std::optional<std::string_view> {
            auto it = request_.find(name);
            if (it == request_.end()) return std::nullopt;
            return it->value();
          });
      if (!decision.allowed()) return SendAuthError(decision);
    }
    if (options_.rate_limiter != nullptr && options_.rate_limiter->enabled() &&
        ApiCategoryOf(route->endpoint) != security::ApiCategory::kHealth) {
      if (int64_t retry_s = options_.rate_limiter->Acquire(RateLimitClient(),
                                                           SteadyClock::now());
          retry_s > 0) {
        Response res = MakeResponse(bhttp::status::too_many_requests,
                                    protocol::EncodeError(fmt::format(
                                        "rate limit exceeded; retry after {} s", retry_s)));
        res.set(bhttp::field::retry_after, std::to_string(retry_s));
        return Write(std::move(res));
      }
    }

    switch (route->endpoint) {
      case Endpoint::kHealthLive:
        return SendEmpty(server_->IsLive() ? bhttp::status::ok
                                           : bhttp::status::service_unavailable);
      case Endpoint::kHealthReady:
        return SendEmpty(server_->IsReady() ? bhttp::status::ok
                                            : bhttp::status::service_unavailable);
      case Endpoint::kServerMetadata:
        return SendJson(ServerMetadataJson(server_->Metadata()));
      case Endpoint::kModelMetadata: {
        auto m = server_->GetModelMetadata(route->model, route->version);
        if (!m.ok()) return SendStatus(m.status());
        return SendJson(ModelMetadataJson(*m));
      }
      case Endpoint::kModelReady: {
        Status s = server_->ModelReady(route->model, route->version);
        if (s.code() == StatusCode::kNotFound) return SendStatus(s);
        // KServe v2: 200 when ready, a 4xx when not (Triton answers 400).
        return SendEmpty(s.ok() ? bhttp::status::ok : bhttp::status::bad_request);
      }
      case Endpoint::kModelConfig: {
        auto c = server_->GetModelConfigJson(route->model, route->version);
        if (!c.ok()) return SendStatus(c.status());
        return SendJson(std::move(c).value());
      }
      case Endpoint::kModelStatistics: {
        auto stats = server_->GetModelStatistics(route->model, route->version);
        if (!stats.ok()) return SendStatus(stats.status());
        return SendJson(ModelStatisticsJson(*stats));
      }
      case Endpoint::kRepositoryIndex:
        return HandleRepositoryIndex();
      case Endpoint::kRepositoryLoad:
      case Endpoint::kRepositoryUnload:
        return HandleRepositoryControl(*route);
      case Endpoint::kModelRouting:
      case Endpoint::kModelRollback:
        return HandleRouting(*route);
      case Endpoint::kModelInfer:
        return HandleInfer(std::move(route).value());
      case Endpoint::kMetrics: {
        Response res = MakeResponse(bhttp::status::ok, server_->MetricsText());
        res.set(bhttp::field::content_type, kPrometheusContentType);
        return Write(std::move(res));
      }
      case Endpoint::kLogging:
        return HandleLogging(method);
    }
  }

  void HandleLogging(Method method) {
    if (method == Method::kPost) {
      auto updated =
          ApplyLogSettingsJson(request_.body(), observability::CurrentLogSettings());
      if (!updated.ok()) return SendStatus(updated.status());
      Status s = observability::UpdateLogSettings(*updated);
      if (!s.ok()) return SendStatus(s);
      spdlog::info("log settings changed: {}", LogSettingsJson(*updated));
    }
    SendJson(LogSettingsJson(observability::CurrentLogSettings()));
  }

  void HandleRepositoryIndex() {
    bool ready_only = false;
    if (!request_.body().empty()) {
      auto doc = nlohmann::json::parse(request_.body(), nullptr, /*allow_exceptions=*/false);
      if (doc.is_discarded() || !doc.is_object()) {
        return SendStatus(InvalidArgument("repository index body must be a JSON object"));
      }
      if (auto it = doc.find("ready"); it != doc.end()) {
        if (!it->is_boolean()) return SendStatus(InvalidArgument("'ready' must be a boolean"));
        ready_only = it->get<bool>();
      }
    }
    SendJson(RepositoryIndexJson(server_->RepositoryIndex(), ready_only));
  }

  void HandleRouting(const Route& route) {
    Result<repository::RoutingPolicy> policy = InvalidArgument("no policy");
    if (route.endpoint == Endpoint::kModelRollback) {
      policy = server_->Rollback(route.model);
    } else {
      auto doc = nlohmann::json::parse(request_.body(), nullptr, /*allow_exceptions=*/false);
      if (doc.is_discarded() || !doc.is_object() || !doc.contains("policy") ||
          !doc["policy"].is_string()) {
        return SendStatus(InvalidArgument(
            "routing body must be {\"policy\": \"latest\" | \"pinned:<version>\" | "
            "\"weighted:<version>=<weight>,...\"}"));
      }
      policy = repository::ParseRoutingPolicy(doc["policy"].get<std::string>());
      if (policy.ok()) {
        Status s = server_->SetRouting(route.model, *policy);
        if (!s.ok()) policy = s;
      }
    }
    if (!policy.ok()) return SendStatus(policy.status());
    SendJson(nlohmann::json{{"name", route.model},
                            {"routing", repository::RoutingPolicyToString(*policy)}}
                 .dump());
  }

  void HandleRepositoryControl(const Route& route) {
    std::optional<std::string> config_override;
    if (!request_.body().empty()) {
      auto doc = nlohmann::json::parse(request_.body(), nullptr, /*allow_exceptions=*/false);
      if (doc.is_discarded() || !doc.is_object()) {
        return SendStatus(InvalidArgument("repository request body must be a JSON object"));
      }
      if (auto it = doc.find("parameters"); it != doc.end() && it->is_object() &&
                                            it->contains("config")) {
        if (route.endpoint != Endpoint::kRepositoryLoad || !(*it)["config"].is_string()) {
          return SendStatus(InvalidArgument(
              "parameters.config must be a string holding the model config as JSON"));
        }
        config_override = (*it)["config"].get<std::string>();
      }
    }
    // Loading initializes engine sessions: keep it off the I/O threads, one at a time.
    net::post(*control_pool_, [self = shared_from_this(), route,
                               config_override = std::move(config_override)] {
      Status s = route.endpoint == Endpoint::kRepositoryLoad
                     ? self->server_->LoadModel(route.model, config_override)
                     : self->server_->UnloadModel(route.model);
      net::post(self->stream_.get_executor(), [self, s] {
        if (!s.ok()) return self->SendStatus(s);
        self->SendEmpty(bhttp::status::ok);
      });
    });
  }

  // While the model works, notice a client that hangs up: a socket that turns readable with
  // nothing to read (a peek of 0 bytes) is closed, and the request it queued is cancelled, so
  // it never runs. Data to read means a pipelined request; it is left for the next read. Over
  // TLS the peek is on the raw socket too, so a client that cuts the connection is noticed, but
  // one that sends close_notify first looks like data and its request runs to the end.
  void WatchForDisconnect(std::shared_ptr<std::atomic<bool>> cancelled) {
    stream_.socket().async_wait(
        tcp::socket::wait_read, [self = shared_from_this(), cancelled](beast::error_code ec) {
          if (ec) {
            if (ec != net::error::operation_aborted) cancelled->store(true);
            return;
          }
          char byte;
          const ssize_t n = ::recv(self->stream_.socket().native_handle(), &byte, 1,
                                   MSG_PEEK | MSG_DONTWAIT);
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) cancelled->store(true);
        });
  }

  void HandleInfer(Route route) {
    std::optional<size_t> header_length;
    if (auto it = request_.find(kHeaderLength); it != request_.end()) {
      const std::string_view v = it->value();
      size_t n = 0;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || ptr != v.data() + v.size()) {
        return SendStatus(InvalidArgument(
            fmt::format("{} header '{}' is not a byte count", kHeaderLength, v)));
      }
      header_length = n;
    }
    record_.model = route.model;
    record_.version = route.version;
    StartTrace();
    const auto decode_start = SteadyClock::now();
    auto body = std::make_shared<std::string>(std::move(request_.body()));
    auto decoded = protocol::DecodeInferRequest(body, header_length);
    record_.times.decode_ns = NanosSince(decode_start);
    if (!decoded.ok()) return SendStatus(decoded.status());
    InferenceRequest request = std::move(decoded).value();
    request.model_name = std::move(route.model);
    request.model_version = route.version;
    record_.observation = std::make_shared<server::InferObservation>();
    record_.times.facade_start_unix_ns = UnixNanos();

    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    request.cancelled = cancelled;
    WatchForDisconnect(cancelled);

    // What the encoder needs from the request, kept while the request itself goes to a worker.
    auto shape_of_answer = std::make_shared<InferenceRequest>();
    shape_of_answer->parameters = request.parameters;
    shape_of_answer->outputs = request.outputs;

    server_->Infer(
        std::move(request),
        [self = shared_from_this(), shape_of_answer](Result<InferenceResponse> result) mutable {
          const uint64_t facade_end = UnixNanos();
          // Back to this connection's strand; encoding happens there, off the worker thread.
          net::post(self->stream_.get_executor(),
                    [self, shape_of_answer, facade_end, result = std::move(result)]() mutable {
                      self->record_.times.facade_end_unix_ns = facade_end;
                      self->OnInferDone(std::move(result), *shape_of_answer);
                    });
        },
        record_.observation);
  }

  // Decides whether this inference request is traced (W3C traceparent, then the sample rate).
  void StartTrace() {
    if (options_.tracer == nullptr) return;
    std::optional<observability::TraceParent> parent;
    if (auto it = request_.find(kTraceParent); it != request_.end()) {
      parent = observability::ParseTraceParent(it->value());
    }
    if (!options_.tracer->ShouldSample(parent)) return;
    record_.traced = true;
    record_.trace_id = parent ? parent->trace_id : observability::NewTraceId();
    if (parent) record_.remote_parent = parent->parent_id;
    record_.root_span = observability::NewSpanId();
  }

  void OnInferDone(Result<InferenceResponse> result, const InferenceRequest& request) {
    if (!result.ok()) return SendStatus(result.status());
    const auto encode_start = SteadyClock::now();
    record_.times.encode_start_unix_ns = UnixNanos();
    protocol::EncodedInferResponse encoded = protocol::EncodeInferResponse(*result, request);
    record_.times.encode_ns = NanosSince(encode_start);
    Response res = MakeResponse(bhttp::status::ok, std::move(encoded.body));
    if (encoded.header_length) {
      res.set(kHeaderLength, std::to_string(*encoded.header_length));
      res.set(bhttp::field::content_type, "application/octet-stream");
    }
    Write(std::move(res));
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

  void SendJson(std::string body) { Write(MakeResponse(bhttp::status::ok, std::move(body))); }

  void SendEmpty(bhttp::status status) {
    Response res = MakeResponse(status, "");
    res.erase(bhttp::field::content_type);
    Write(std::move(res));
  }

  void SendStatus(const Status& status) {
    Write(MakeResponse(HttpStatusFor(status.code()), protocol::EncodeError(status.message())));
  }

  // Who the rate limit counts against: the API token when tokens are asked for (the
  // Authorizer has already checked it), else the peer's IP address.
  std::string RateLimitClient() {
    if (options_.authorizer != nullptr && options_.authorizer->uses_tokens()) {
      if (auto it = request_.find(bhttp::field::authorization); it != request_.end()) {
        return fmt::format("token:{}", std::string_view(it->value()));
      }
    }
    beast::error_code ec;
    auto peer = stream_.socket().remote_endpoint(ec);
    return ec ? std::string("ip:?") : "ip:" + peer.address().to_string();
  }

  void SendAuthError(const security::AuthDecision& decision) {
    const bool unauthenticated = decision.outcome == security::AuthOutcome::kUnauthenticated;
    Response res = MakeResponse(
        unauthenticated ? bhttp::status::unauthorized : bhttp::status::forbidden,
        protocol::EncodeError(decision.message));
    if (unauthenticated) res.set(bhttp::field::www_authenticate, "Bearer realm=\"inferd\"");
    Write(std::move(res));
  }

  void SendError(bhttp::status status, const std::string& message, bool keep_alive) {
    keep_alive_ = keep_alive;
    Write(MakeResponse(status, protocol::EncodeError(message)));
  }

  void Write(Response res) {
    if (request_.method() == bhttp::verb::head) res.body().clear();
    if (record_.traced) {
      res.set(kTraceParent,
              observability::FormatTraceParent(record_.trace_id, record_.root_span, true));
    }
    ObserveResponse(record_, request_, res, options_.tracer, stream_.socket());
    response_ = std::move(res);
    stream_.expires_after(std::chrono::seconds(options_.idle_timeout_seconds));
    bhttp::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec,
                                                                       size_t) {
      self->OnWrite(ec);
    });
  }

  void OnWrite(beast::error_code ec) {
    if (answering_) {
      answering_ = false;
      state_->in_flight.fetch_sub(1);
    }
    if (ec) return Close();
    if (!keep_alive_) return CloseAfterAnswer();
    request_ = {};
    response_ = {};
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

  ConnectionStream stream_;
  ListenerState* const state_;
  const HttpServer::Options& options_;
  server::InferenceServer* server_;
  net::thread_pool* control_pool_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Request request_;
  Response response_;
  RequestRecord record_;
  bool keep_alive_ = true;
  bool answering_ = false;  // a request was read and its answer is not yet written
  unsigned version_ = 11;
};

}  // namespace

void StartSession(tcp::socket socket, ListenerState* state) {
  std::make_shared<Session>(std::move(socket), state)->Run();
}

}  // namespace inferd::http
