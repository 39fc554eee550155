// HttpV2Client: one blocking keep-alive HTTP/1.1 connection to a KServe v2 server, for
// `inferd predict --url`. Inference travels with Triton's binary tensor data extension both
// ways (no JSON numbers), and answers come back as the server's own InferenceResponse types.
// Not thread-safe: RemoteEngine gives each of its worker threads its own client.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <memory>
#include <string>

#include "batch/v2_client.h"
#include "core/inference_request.h"

namespace inferd::batch {

class HttpV2Client final : public V2Client {
 public:
  // `url`: http://host:port or host:port.
  static Result<std::unique_ptr<HttpV2Client>> Create(const std::string& url);

  // The body of GET `path` when it answers 200.
  Result<std::string> Get(const std::string& path);
  Result<ModelSpec> Describe(const std::string& model) override;
  // Errors: INVALID_ARGUMENT for a 400 (the rows), NOT_FOUND for a 404, UNAVAILABLE for a
  // failed connection or a 5xx/429 (worth retrying elsewhere).
  Result<InferenceResponse> Infer(const InferenceRequest& request) override;
  const std::string& url() const { return url_; }

 private:
  HttpV2Client(std::string url, std::string host, std::string port)
      : url_(std::move(url)), host_(std::move(host)), port_(std::move(port)), socket_(io_) {}
  Status Connect();
  // Sends one request and reads its answer; reconnects once when a kept-alive connection was
  // closed by the server in between.
  Result<std::pair<int, std::string>> RoundTrip(const std::string& method, const std::string& path,
                                                std::string body,
                                                std::optional<size_t> header_length,
                                                std::optional<size_t>* answer_header_length);

  std::string url_, host_, port_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
};

// The binary-extension request body (JSON header + tensor bytes) and its header length.
std::pair<std::string, size_t> EncodeBinaryInferRequest(const InferenceRequest& request);
// A v2 response body (JSON, with binary outputs after `header_length` bytes when set).
Result<InferenceResponse> DecodeInferResponseBody(std::string body,
                                                  std::optional<size_t> header_length);

}  // namespace inferd::batch
