// ConnectionStream: the byte stream under one HTTP connection — plain TCP, or TLS over TCP when
// the listener was given a TLS context. It models Asio's AsyncReadStream and AsyncWriteStream,
// so Beast's HTTP reads and writes run on it unchanged; the raw socket is the TCP layer
// underneath in both cases. Timeouts (expires_after) are kept by the io_context's
// DeadlineSweeper (deadline_sweeper.h), which closes the socket when one runs out: pending
// operations then complete with operation_aborted. A variant rather than a template
// keeps one copy of the session code. Internal to src/http: the Session (session.h)
// owns one. Its executor is its io_context's own (each io_context is run by one thread, so a
// connection needs no strand, and no type-erased executor sits in every operation).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <utility>
#include <variant>

#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "http/deadline_sweeper.h"

namespace inferd::http {

// Whether a read error means the peer is gone or the transport is unusable, so the connection
// is closed without an answer (rather than a malformed request, which gets a 400). Every TLS
// failure counts: a bad record or a stream cut without close_notify leaves no channel to
// answer on.
bool IsConnectionGone(const boost::beast::error_code& ec);

using IoExecutor = boost::asio::io_context::executor_type;
using TcpSocket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, IoExecutor>;

class ConnectionStream {
 public:
  using executor_type = IoExecutor;

  // `tls` null: plain TCP. Otherwise TLS with that context, which must outlive the stream; the
  // first operation must then be AsyncHandshake. `shortest_timeout`: the shortest timeout
  // expires_after will be given (it sets how often the sweeper looks).
  // `on_watch`: see watch_soon.
  ConnectionStream(TcpSocket socket, boost::asio::ssl::context* tls,
                   std::chrono::nanoseconds shortest_timeout, std::function<void()> on_watch);
  ConnectionStream(const ConnectionStream&) = delete;
  ConnectionStream& operator=(const ConnectionStream&) = delete;

  bool tls() const { return std::holds_alternative<TlsStream>(stream_); }
  executor_type get_executor() { return socket().get_executor(); }
  // The TCP layer: the socket (peer address, readiness waits, shutdown; without TLS, writes
  // that must not wait: it is in non-blocking mode).
  TcpSocket& socket();
  // The connection is closed unless it makes progress within `timeout`: it applies to the
  // operations that follow, until the next expires_after or no_timeout.
  void expires_after(std::chrono::nanoseconds timeout) { deadline_.Arm(timeout); }
  // No timeout (while the server works on a request).
  void no_timeout() { deadline_.Disarm(); }
  // Calls on_watch on this connection's thread in 10–20 ms (DeadlineSweeper::kWatchTick),
  // unless cancel_watch comes first: a request that is still waiting then starts watching
  // for its client's hang-up.
  void watch_soon() { deadline_.WatchSoon(); }
  void cancel_watch() { deadline_.CancelWatch(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::beast::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          if (auto* s = std::get_if<TlsStream>(&stream_)) {
            s->async_read_some(b, std::move(handler));
          } else {
            std::get<TcpSocket>(stream_).async_read_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::beast::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (auto* s = std::get_if<TlsStream>(&stream_)) {
            s->async_write_some(b, std::move(handler));
          } else {
            std::get<TcpSocket>(stream_).async_write_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

  // TLS only: the server side of the handshake; `handler(error_code)`.
  template <class Handler>
  void AsyncHandshake(Handler&& handler) {
    std::get<TlsStream>(stream_).async_handshake(boost::asio::ssl::stream_base::server,
                                                 std::forward<Handler>(handler));
  }

  // TLS only: sends close_notify and waits for the peer's (or its hang-up, or the timeout set
  // with expires_after); `handler(error_code)`.
  template <class Handler>
  void AsyncShutdown(Handler&& handler) {
    std::get<TlsStream>(stream_).async_shutdown(std::forward<Handler>(handler));
  }

 private:
  using TlsStream = boost::beast::ssl_stream<TcpSocket>;

  std::variant<TcpSocket, TlsStream> stream_;
  ConnectionDeadline deadline_;
};

}  // namespace inferd::http
