#include "http/http_server.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/http_session.h"
#include "http/tls_context.h"

namespace inferd::http {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

}  // namespace


class HttpServer::Impl {
 public:
  Impl(const Options& options, handler::RequestHandler* handler)
      : options_(options), state_(options, handler), contexts_(MakeContexts(options)),
        acceptor_(contexts_.front()->get_executor()) {}

  Status Listen() {
    if (options_.tls.enabled()) {
      ASSIGN_OR_RETURN(state_.tls_context, CreateServerTlsContext(options_.tls));
    }
    beast::error_code ec;
    auto address = net::ip::make_address(options_.host, ec);
    if (ec) return InvalidArgument(fmt::format("invalid --host '{}': {}", options_.host, ec.message()));
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return Unavailable(fmt::format("cannot listen on {}:{}: {}", options_.host, options_.port,
                                     ec.message()));
    }
    if (state_.tls_context) {
      spdlog::info("HTTP on port {}: TLS with certificate '{}'{}", port(), options_.tls.cert_file,
                   options_.tls.client_ca_file.empty()
                       ? ""
                       : fmt::format(", client certificates verified against '{}'",
                                     options_.tls.client_ca_file));
    }
    return Status::Ok();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void Start() {
    DoAccept();
    for (auto& ioc : contexts_) {
      threads_.emplace_back([ioc = ioc.get()] {
        // Keeps running while idle: connections come and go, the context stays.
        auto guard = net::make_work_guard(*ioc);
        ioc->run();
      });
    }
  }

  int Drain(std::chrono::steady_clock::time_point deadline) {
    state_.draining.store(true);
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    // In-flight requests finish on I/O and model threads; the last one wakes this wait.
    MutexLock lock(state_.drain_mu);
    while (state_.in_flight.load() > 0) {
      if (!state_.drained.WaitUntil(state_.drain_mu, deadline)) break;
    }
    return state_.in_flight.load();
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    // A load in progress finishes (and posts its answer) before the I/O threads go.
    state_.handler->WaitForControlWork();
    for (auto& ioc : contexts_) ioc->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void DoAccept() {
    // Connections are spread over the I/O threads' contexts in turn; each lives on one thread.
    net::io_context& target = *contexts_[next_context_++ % contexts_.size()];
    acceptor_.async_accept(target, [this](beast::error_code ec, TcpSocket socket) {
      if (ec == net::error::operation_aborted) return;
      if (!ec && options_.max_connections > 0 &&
          state_.connections.load() >= options_.max_connections) {
        // Over TLS a plaintext 503 would be noise to the client: just close.
        if (state_.tls_context) {
          socket.close(ec);
        } else {
          RejectConnection(std::move(socket));
        }
      } else if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        StartSession(std::move(socket), &state_);
      } else {
        spdlog::warn("accept failed: {}", ec.message());
      }
      if (acceptor_.is_open()) DoAccept();
    });
  }

  // Over --max-connections: a fixed 503 and close, without reading the request.
  static void RejectConnection(TcpSocket socket) {
    static const std::string kAnswer = [] {
      const std::string body = R"({"error":"too many connections; try again later"})";
      return fmt::format(
          "HTTP/1.1 503 Service Unavailable\r\nServer: inferd\r\nContent-Type: "
          "application/json\r\nContent-Length: {}\r\nRetry-After: 1\r\nConnection: "
          "close\r\n\r\n{}",
          body.size(), body);
    }();
    auto owned = std::make_shared<TcpSocket>(std::move(socket));
    net::async_write(*owned, net::buffer(kAnswer), [owned](beast::error_code, size_t) {
      beast::error_code ec;
      owned->shutdown(tcp::socket::shutdown_both, ec);
      owned->close(ec);
    });
  }

  // One io_context per I/O thread (concurrency hint 1: Asio skips cross-thread wake-ups for
  // work posted from its own thread); --http-threads of them, default min(2, cores).
  static std::vector<std::unique_ptr<net::io_context>> MakeContexts(const Options& options) {
    int n = options.io_threads;
    if (n <= 0) n = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 2u));
    std::vector<std::unique_ptr<net::io_context>> out;
    for (int i = 0; i < n; ++i) out.push_back(std::make_unique<net::io_context>(1));
    return out;
  }

  const Options options_;
  // Declared before the contexts: outlives the sessions whose handlers they hold.
  ListenerState state_;
  std::vector<std::unique_ptr<net::io_context>> contexts_;
  size_t next_context_ = 0;  // only the acceptor's handler (on contexts_[0]) touches it
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
};

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const Options& options,
                                                       handler::RequestHandler* handler) {
  auto impl = std::make_unique<Impl>(options, handler);
  RETURN_IF_ERROR(impl->Listen());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(); }
uint16_t HttpServer::port() const { return impl_->port(); }
void HttpServer::Start() { impl_->Start(); }
void HttpServer::Stop() { impl_->Stop(); }
int HttpServer::Drain(std::chrono::steady_clock::time_point deadline) {
  return impl_->Drain(deadline);
}

}  // namespace inferd::http
