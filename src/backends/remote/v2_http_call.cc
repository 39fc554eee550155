#include "backends/remote/v2_http_call.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstring>
#include <nlohmann/json.hpp>

namespace inferd::backends::remote {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using Json = nlohmann::json;

constexpr char kHeaderLength[] = "Inference-Header-Content-Length";

std::string RequestBody(std::span<const Tensor> inputs, std::span<const std::string> outputs,
                        std::chrono::milliseconds timeout, size_t* header_length) {
  Json header;
  header["parameters"] = {{"timeout", std::chrono::microseconds(timeout).count()}};
  header["inputs"] = Json::array();
  for (const Tensor& t : inputs) {
    header["inputs"].push_back({{"name", t.name()},
                                {"datatype", std::string(DataTypeName(t.dtype()))},
                                {"shape", t.shape()},
                                {"parameters", {{"binary_data_size", t.byte_size()}}}});
  }
  header["outputs"] = Json::array();
  for (const std::string& name : outputs) {
    header["outputs"].push_back({{"name", name}, {"parameters", {{"binary_data", true}}}});
  }
  std::string body = header.dump();
  *header_length = body.size();
  for (const Tensor& t : inputs) {
    body.append(reinterpret_cast<const char*>(t.data().data()), t.byte_size());
  }
  return body;
}

Status FromHttpStatus(unsigned status, const std::string& body) {
  std::string message = body;
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_string()) {
    message = parsed["error"].get<std::string>();
  }
  message = fmt::format("the remote server answered {}: {}", status, message);
  switch (status) {
    case 400:
      return InvalidArgument(message);
    case 404:
      return NotFound(message);
    case 502:
      return BadGateway(message);
    case 503:
      return Unavailable(message);
    case 504:
      return DeadlineExceeded(message);
    default:
      return Internal(message);
  }
}

Result<std::vector<Tensor>> ParseResponse(const http::response<http::string_body>& response,
                                          std::span<const std::string> output_names) {
  const std::string& body = response.body();
  size_t header_length = body.size();
  if (auto it = response.find(kHeaderLength); it != response.end()) {
    header_length = std::strtoull(std::string(it->value()).c_str(), nullptr, 10);
    if (header_length > body.size()) return BadGateway("the remote's answer is truncated");
  }
  Json header = Json::parse(body.substr(0, header_length), nullptr, false);
  if (!header.is_object() || !header.contains("outputs") || !header["outputs"].is_array()) {
    return BadGateway("the remote's answer is not a v2 inference response");
  }
  std::vector<Tensor> outputs;
  size_t offset = header_length;
  for (const auto& out : header["outputs"]) {
    if (!out.contains("parameters") || !out["parameters"].contains("binary_data_size")) {
      return BadGateway("the remote answered an output without binary data");
    }
    const size_t size = out["parameters"]["binary_data_size"].get<size_t>();
    if (offset + size > body.size()) return BadGateway("the remote's answer is truncated");
    Tensor t(out.value("name", ""), DataTypeFromName(out.value("datatype", "")),
             Shape(out.value("shape", std::vector<int64_t>{})));
    std::vector<std::byte> bytes(size);
    std::memcpy(bytes.data(), body.data() + offset, size);
    t.SetData(std::move(bytes));
    offset += size;
    RETURN_IF_ERROR(t.ValidateByteSize());
    outputs.push_back(std::move(t));
  }
  std::vector<Tensor> ordered;
  for (const std::string& name : output_names) {
    auto it = std::find_if(outputs.begin(), outputs.end(),
                           [&](const Tensor& t) { return t.name() == name; });
    if (it == outputs.end()) {
      return BadGateway(fmt::format("the remote's answer lacks output '{}'", name));
    }
    ordered.push_back(std::move(*it));
  }
  return ordered;
}

}  // namespace

// The connection a client keeps between calls: its own io_context and socket.
struct V2HttpClient::Connection {
  boost::asio::io_context io;
  beast::tcp_stream stream{io};
  bool open = false;  // connected, and the server keeps the connection alive
};

namespace {

struct ExchangeResult {
  Result<std::vector<Tensor>> outputs = Internal("not run");
  bool keep_alive = false;  // the connection may carry the next call
  bool retry = false;       // a reused connection failed before any answer: the server closed it
};

ExchangeResult Exchange(V2HttpClient::Connection& connection, const V2Endpoint& endpoint,
                        std::span<const Tensor> inputs, std::span<const std::string> output_names,
                        const CallOptions& options);

}  // namespace

Result<V2Endpoint> ParseEndpoint(const std::string& url) {
  std::string rest = url;
  bool grpc = false;
  if (rest.starts_with("http://")) {
    rest = rest.substr(7);
  } else if (rest.starts_with("grpc://")) {
    rest = rest.substr(7);
    grpc = true;
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (rest.empty() || colon == std::string::npos || colon == 0 || colon + 1 == rest.size() ||
      rest.find('/') != std::string::npos) {
    return InvalidArgument(
        fmt::format("url '{}' is not http://host:port or grpc://host:port", url));
  }
  V2Endpoint e;
  e.grpc = grpc;
  e.host = rest.substr(0, colon);
  e.port = rest.substr(colon + 1);
  return e;
}

V2HttpClient::V2HttpClient(V2Endpoint endpoint)
    : endpoint_(std::move(endpoint)), connection_(std::make_unique<Connection>()) {}

V2HttpClient::~V2HttpClient() = default;

Result<std::vector<Tensor>> V2HttpClient::Call(std::span<const Tensor> inputs,
                                               std::span<const std::string> output_names,
                                               const CallOptions& options) {
  try {
    const bool reused = connection_->open;
    ExchangeResult r = Exchange(*connection_, endpoint_, inputs, output_names, options);
    if (!r.keep_alive) connection_ = std::make_unique<Connection>();  // drops what is pending
    if (reused && r.retry) {  // an idle connection the server had closed: once more, afresh
      r = Exchange(*connection_, endpoint_, inputs, output_names, options);
      if (!r.keep_alive) connection_ = std::make_unique<Connection>();
    }
    return std::move(r.outputs);
  } catch (const std::exception& e) {  // Boost's exceptions stop at the backend's edge
    connection_ = std::make_unique<Connection>();
    return BadGateway(
        fmt::format("remote call to {}:{} failed: {}", endpoint_.host, endpoint_.port, e.what()));
  }
}

Result<std::vector<Tensor>> CallV2(const V2Endpoint& endpoint, std::span<const Tensor> inputs,
                                   std::span<const std::string> output_names,
                                   const CallOptions& options) {
  return V2HttpClient(endpoint).Call(inputs, output_names, options);
}

namespace {

ExchangeResult Exchange(V2HttpClient::Connection& connection, const V2Endpoint& endpoint,
                        std::span<const Tensor> inputs, std::span<const std::string> output_names,
                        const CallOptions& options) {
  const std::chrono::milliseconds timeout = options.timeout;
  size_t header_length = 0;
  http::request<http::string_body> request{
      http::verb::post,
      fmt::format("/v2/models/{}{}/infer", endpoint.model_name,
                  endpoint.model_version.empty() ? "" : "/versions/" + endpoint.model_version),
      11};
  request.set(http::field::host, endpoint.host);
  request.set(http::field::content_type, "application/octet-stream");
  if (!options.traceparent.empty()) request.set("traceparent", options.traceparent);
  request.body() = RequestBody(inputs, output_names, timeout, &header_length);
  request.set(kHeaderLength, std::to_string(header_length));
  request.prepare_payload();

  // Asynchronous operations under one deadline (beast's timeouts apply to those only); the
  // calling thread runs the connection's io_context until the exchange ends or the deadline
  // cancels it. An exchange that does not end leaves work pending: the caller then drops the
  // connection (and its io_context) without running it again.
  boost::asio::io_context& io = connection.io;
  io.restart();
  beast::tcp_stream& stream = connection.stream;
  tcp::resolver resolver(io);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(uint64_t{1} << 31);
  beast::error_code failure;
  const char* stage = "resolving";
  stream.expires_after(timeout);
  auto send = [&] {
    stage = "sending";
    http::async_write(stream, request, [&](beast::error_code ec, size_t) {
      if (ec) return void(failure = ec);
      stage = "waiting for the answer";
      http::async_read(stream, buffer, parser, [&](beast::error_code ec, size_t) {
        if (ec) failure = ec;
        stage = "done";
      });
    });
  };
  if (connection.open) {
    send();
  } else {
    resolver.async_resolve(endpoint.host, endpoint.port, [&](beast::error_code ec, auto results) {
      if (ec) return void(failure = ec);
      stage = "connecting";
      stream.async_connect(results, [&](beast::error_code ec, auto) {
        if (ec) return void(failure = ec);
        connection.open = true;
        send();
      });
    });
  }
  io.run_for(timeout + std::chrono::milliseconds(100));  // the resolver is not under expiry
  ExchangeResult result;
  const std::string where = fmt::format("{}:{}", endpoint.host, endpoint.port);
  const bool ended = std::string_view(stage) == "done";
  if (failure == beast::error::timeout || (!failure && !ended)) {
    result.outputs = DeadlineExceeded(fmt::format(
        "remote server {} did not answer within {} ms ({})", where, timeout.count(), stage));
    return result;
  }
  if (failure) {
    result.retry = connection.open && !parser.got_some();
    result.outputs = BadGateway(
        fmt::format("remote server {} failed while {}: {}", where, stage, failure.message()));
    return result;
  }
  const auto& response = parser.get();
  result.keep_alive = response.keep_alive();
  stream.expires_never();
  if (response.result_int() != 200) {
    result.outputs = FromHttpStatus(response.result_int(), response.body());
    return result;
  }
  try {
    result.outputs = ParseResponse(response, output_names);
  } catch (const std::exception& e) {  // a field of the wrong JSON type
    result.outputs =
        BadGateway(fmt::format("the remote's answer is not a v2 inference response: {}", e.what()));
  }
  return result;
}

}  // namespace
}  // namespace inferd::backends::remote
