// One KServe v2 inference over HTTP/1.1 to another server (inferd, Triton, any v2 server):
// inputs go out with the binary tensor extension, outputs are asked for as binary data, and
// the whole exchange (resolve, connect, write, read) runs under one deadline. Used by the
// remote processor (remote_backend.h). Blocking; one call per thread at a time per object.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace inferd::backends::remote {

struct V2Endpoint {
  std::string host;
  std::string port;
  std::string model_name;
  std::string model_version;  // empty: the remote server's choice
};

// "http://host:port" or "host:port"; INVALID_ARGUMENT otherwise.
Result<V2Endpoint> ParseEndpoint(const std::string& url);

// The remote's answer: its outputs named `output_names`, in that order. Errors: the remote's
// own error message with its HTTP status mapped back (400 INVALID_ARGUMENT, 404 NOT_FOUND,
// 503 UNAVAILABLE, 504 DEADLINE_EXCEEDED, else INTERNAL); UNAVAILABLE when it cannot be reached;
// DEADLINE_EXCEEDED when it does not answer within `timeout`.
Result<std::vector<Tensor>> CallV2(const V2Endpoint& endpoint, std::span<const Tensor> inputs,
                                   std::span<const std::string> output_names,
                                   std::chrono::milliseconds timeout);

}  // namespace inferd::backends::remote
