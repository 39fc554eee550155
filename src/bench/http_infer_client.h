// HttpInferClient: an InferClient over one keep-alive HTTP/1.1 connection (Boost.Beast on an
// io_context the caller runs). The request (head and body) is serialized once, so a send is a
// single async_write of ready bytes; responses are parsed with Beast into a reused buffer. Also
// a small blocking GET helper for the metadata and statistics endpoints.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "bench/infer_client.h"
#include "core/status.h"

namespace inferd::bench {

struct HttpTarget {
  std::string host;
  std::string port;
};

// "http://host:port" or "host:port" (default port 8000). INVALID_ARGUMENT otherwise.
Result<HttpTarget> ParseHttpUrl(const std::string& url);

// Blocking GET; returns the body of a 200 answer, NOT_FOUND for 404, UNAVAILABLE otherwise.
Result<std::string> HttpGet(const HttpTarget& target, const std::string& path);
// Blocking POST of a JSON body; the body of a 200 answer, else UNAVAILABLE with the answer's
// status and body (the server's error message).
Result<std::string> HttpPost(const HttpTarget& target, const std::string& path,
                             const std::string& json_body);

class HttpInferClient final : public InferClient {
 public:
  // `request` is a complete serialized HTTP request (see SerializeInferRequest).
  HttpInferClient(boost::asio::io_context& io, HttpTarget target,
                  std::shared_ptr<const std::string> request);

  Status Connect() override;
  void Send(Done* done) override;

  // The full request bytes for POST `path` with `body` (and the binary extension's header when
  // header_length is set), keep-alive.
  static std::string SerializeInferRequest(const HttpTarget& target, const std::string& path,
                                           const std::string& body,
                                           std::optional<size_t> header_length);

 private:
  void Write();
  void Read();
  void Finish(bool ok, bool reusable);

  boost::asio::io_context& io_;
  HttpTarget target_;
  std::shared_ptr<const std::string> request_;
  boost::asio::ip::tcp::resolver::results_type endpoints_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
  bool connected_ = false;
  Done* done_ = nullptr;
};

}  // namespace inferd::bench
