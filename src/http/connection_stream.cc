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

bool IsConnectionGone(const beast::error_code& ec) {
  return ec == beast::http::error::end_of_stream || ec == net::error::eof ||
         ec == beast::error::timeout || ec == net::error::operation_aborted ||
         ec == net::error::connection_reset || ec == net::ssl::error::stream_truncated ||
         ec.category() == net::error::get_ssl_category();
}

ConnectionStream::ConnectionStream(TcpSocket socket, net::ssl::context* tls)
    : stream_([&]() -> std::variant<TcpStream, TlsStream> {
        if (tls != nullptr) return TlsStream(std::move(socket), *tls);
        return TcpStream(std::move(socket));
      }()) {}

ConnectionStream::TcpStream& ConnectionStream::tcp() {
  if (auto* s = std::get_if<TlsStream>(&stream_)) return s->next_layer();
  return std::get<TcpStream>(stream_);
}

}  // namespace inferd::http
