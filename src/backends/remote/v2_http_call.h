// One KServe v2 inference over HTTP/1.1 to another server (inferd, Triton, any v2 server):
// inputs go out with the binary tensor extension, outputs are asked for as binary data, and
// the whole exchange (resolve, connect, write, read) runs under one deadline. Used by the
// remote processor (remote_backend.h). Blocking; one call per thread at a time per object.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace inferd::backends::remote {

struct V2Endpoint {
  bool grpc = false;  // v2 gRPC (grpc://host:port) instead of HTTP
  std::string host;
  std::string port;
  std::string model_name;
  std::string model_version;  // empty: the remote server's choice
};

// "http://host:port", "host:port" (HTTP) or "grpc://host:port"; INVALID_ARGUMENT otherwise.
Result<V2Endpoint> ParseEndpoint(const std::string& url);

struct CallOptions {
  std::chrono::milliseconds timeout{5000};  // the whole exchange
  std::string_view traceparent = {};        // sent as the `traceparent` header; empty: none
};

// The remote's answer: its outputs named `output_names`, in that order. The remote also gets
// the timeout as its `timeout` request parameter (microseconds, as Triton's), so its own
// remote steps stop in time. Errors: the remote's own error message with its HTTP status
// mapped back (400 INVALID_ARGUMENT, 404 NOT_FOUND, 502 BAD_GATEWAY, 503 UNAVAILABLE,
// 504 DEADLINE_EXCEEDED, else INTERNAL); BAD_GATEWAY when it cannot be reached or its answer is
// not a v2 response; DEADLINE_EXCEEDED when it does not answer within the timeout.
Result<std::vector<Tensor>> CallV2(const V2Endpoint& endpoint, std::span<const Tensor> inputs,
                                   std::span<const std::string> output_names,
                                   const CallOptions& options);

// CallV2 over one HTTP/1.1 connection kept between calls (keep-alive), opened on the first
// call and again after any failure or a server that closes it; a call that finds its idle
// connection closed by the server retries once on a new one. One call at a time.
class V2HttpClient {
 public:
  explicit V2HttpClient(V2Endpoint endpoint);
  ~V2HttpClient();
  V2HttpClient(const V2HttpClient&) = delete;
  V2HttpClient& operator=(const V2HttpClient&) = delete;

  Result<std::vector<Tensor>> Call(std::span<const Tensor> inputs,
                                   std::span<const std::string> output_names,
                                   const CallOptions& options);

  struct Connection;

 private:
  V2Endpoint endpoint_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace inferd::backends::remote
