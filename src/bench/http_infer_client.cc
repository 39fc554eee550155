#include "bench/http_infer_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>

namespace inferd::bench {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
// Responses of any realistic model fit; a runaway answer fails instead of eating memory.
constexpr uint64_t kMaxResponseBytes = 1ull << 30;
}  // namespace

Result<HttpTarget> ParseHttpUrl(const std::string& url) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  if (rest.rfind("https://", 0) == 0) return InvalidArgument("--url: https is not supported");
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find('/') != std::string::npos) {
    return InvalidArgument("--url '" + url + "': expected http://host:port");
  }
  HttpTarget t;
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos) {
    t.host = rest;
    t.port = "8000";
  } else {
    t.host = rest.substr(0, colon);
    t.port = rest.substr(colon + 1);
  }
  if (t.host.empty() || t.port.empty() ||
      t.port.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("--url '" + url + "': expected http://host:port");
  }
  return t;
}

namespace {

// One blocking request on its own connection; the response, or UNAVAILABLE for I/O errors.
Result<http::response<http::string_body>> HttpCall(const HttpTarget& target, http::verb verb,
                                                   const std::string& path,
                                                   const std::string* body) {
  asio::io_context io;
  tcp::resolver resolver(io);
  tcp::socket socket(io);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(target.host, target.port, ec);
  if (!ec) asio::connect(socket, endpoints, ec);
  if (ec) {
    return Unavailable(fmt::format("cannot connect to {}:{}: {}", target.host, target.port,
                                   ec.message()));
  }
  http::request<http::string_body> req(verb, path, 11);
  req.set(http::field::host, target.host);
  if (body != nullptr) {
    req.set(http::field::content_type, "application/json");
    req.body() = *body;
  }
  req.prepare_payload();
  http::write(socket, req, ec);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  if (!ec) http::read(socket, buffer, parser, ec);
  if (ec) {
    return Unavailable(fmt::format("{} {}: {}", std::string(http::to_string(verb)), path,
                                   ec.message()));
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
  return parser.release();
}

}  // namespace

Result<std::string> HttpGet(const HttpTarget& target, const std::string& path) {
  ASSIGN_OR_RETURN(auto res, HttpCall(target, http::verb::get, path, nullptr));
  if (res.result() == http::status::ok) return res.body();
  if (res.result() == http::status::not_found) return NotFound("GET " + path + ": 404");
  return Unavailable(fmt::format("GET {}: HTTP {}", path, res.result_int()));
}

Result<std::string> HttpPost(const HttpTarget& target, const std::string& path,
                             const std::string& json_body) {
  ASSIGN_OR_RETURN(auto res, HttpCall(target, http::verb::post, path, &json_body));
  if (res.result() == http::status::ok) return res.body();
  return Unavailable(fmt::format("POST {}: HTTP {} {}", path, res.result_int(), res.body()));
}

HttpInferClient::HttpInferClient(asio::io_context& io, HttpTarget target,
                                 std::shared_ptr<const std::string> request)
    : io_(io), target_(std::move(target)), request_(std::move(request)), socket_(io) {}

std::string HttpInferClient::SerializeInferRequest(const HttpTarget& target,
                                                   const std::string& path,
                                                   const std::string& body,
                                                   std::optional<size_t> header_length) {
  std::string out = fmt::format(
      "POST {} HTTP/1.1\r\nHost: {}:{}\r\nConnection: keep-alive\r\nContent-Type: {}\r\n"
      "Content-Length: {}\r\n",
      path, target.host, target.port,
      header_length ? "application/octet-stream" : "application/json", body.size());
  if (header_length) out += fmt::format("Inference-Header-Content-Length: {}\r\n", *header_length);
  out += "\r\n";
  out += body;
  return out;
}

Status HttpInferClient::Connect() {
  boost::system::error_code ec;
  if (endpoints_.empty()) {
    tcp::resolver resolver(io_);
    endpoints_ = resolver.resolve(target_.host, target_.port, ec);
    if (ec) return Unavailable("resolve " + target_.host + ": " + ec.message());
  }
  asio::connect(socket_, endpoints_, ec);
  if (ec) {
    return Unavailable(fmt::format("cannot connect to {}:{}: {}", target_.host, target_.port,
                                   ec.message()));
  }
  socket_.set_option(tcp::no_delay(true), ec);
  connected_ = true;
  return Status::Ok();
}

void HttpInferClient::Send(Done* done) {
  done_ = done;
  if (connected_) {
    Write();
    return;
  }
  boost::system::error_code ignored;
  socket_.close(ignored);
  asio::async_connect(socket_, endpoints_,
                      [this](boost::system::error_code ec, const tcp::endpoint&) {
                        if (ec) return Finish(false, false);
                        boost::system::error_code ignored_ec;
                        socket_.set_option(tcp::no_delay(true), ignored_ec);
                        connected_ = true;
                        buffer_.clear();
                        Write();
                      });
}

void HttpInferClient::Write() {
  asio::async_write(socket_, asio::buffer(*request_),
                    [this](boost::system::error_code ec, size_t) {
                      if (ec) return Finish(false, false);
                      Read();
                    });
}

void HttpInferClient::Read() {
  parser_.emplace();
  parser_->body_limit(kMaxResponseBytes);
  http::async_read(socket_, buffer_, *parser_, [this](boost::system::error_code ec, size_t) {
    if (ec) return Finish(false, false);
    const auto& res = parser_->get();
    Finish(res.result() == http::status::ok, res.keep_alive());
  });
}

void HttpInferClient::Finish(bool ok, bool reusable) {
  if (!reusable) {
    connected_ = false;
    buffer_.clear();
  }
  // Always reached from an async completion handler, so never from inside Send().
  (*done_)(ok);
}

}  // namespace inferd::bench
