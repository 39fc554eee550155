#include "http/connection_stream.h"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/error.hpp>

namespace inferd::http {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;

// Beast's HTTP algorithms check these at compile time; fail here, next to the cause.
static_assert(beast::is_async_read_stream<ConnectionStream>::value);
static_assert(beast::is_async_write_stream<ConnectionStream>::value);

}  // namespace

// operation_aborted and bad_descriptor: the deadline sweeper closed the socket (a timeout).
bool IsConnectionGone(const beast::error_code& ec) {
  return ec == beast::http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::operation_aborted || ec == net::error::bad_descriptor ||
         ec == net::error::connection_reset || ec == net::ssl::error::stream_truncated ||
         ec.category() == net::error::get_ssl_category();
}

ConnectionStream::ConnectionStream(TcpSocket socket, net::ssl::context* tls,
                                   std::chrono::nanoseconds shortest_timeout,
                                   std::function<void()> on_watch)
    : stream_([&]() -> std::variant<TcpSocket, TlsStream> {
        if (tls != nullptr) return TlsStream(std::move(socket), *tls);
        return TcpSocket(std::move(socket));
      }()),
      deadline_(this->socket().get_executor().context(), shortest_timeout, [this] {
        beast::error_code ec;
        this->socket().close(ec);
      }, std::move(on_watch)) {
  // The session may write without waiting (a synchronous write_some that returns
  // would_block rather than blocking the I/O thread).
  beast::error_code ec;
  if (tls == nullptr) this->socket().non_blocking(true, ec);
}

TcpSocket& ConnectionStream::socket() {
  if (auto* s = std::get_if<TlsStream>(&stream_)) return s->next_layer();
  return std::get<TcpSocket>(stream_);
}

}  // namespace inferd::http
