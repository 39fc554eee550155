// InferenceRequest / InferenceResponse: the protocol-neutral form of one inference exchange.
// Frontends decode their wire format into a request, hand it to server::InferenceServer, and
// encode the response they get back. Parameters are kept as the protocol sent them so that
// protocol-level options (binary_data, classification, …) reach the codec that interprets them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "core/tensor.h"

namespace inferd {

using ParameterValue = std::variant<bool, int64_t, double, std::string>;
using Parameters = std::map<std::string, ParameterValue, std::less<>>;

// Typed lookups; nullopt when absent or of another type.
std::optional<bool> GetBoolParameter(const Parameters& params, std::string_view key);
std::optional<int64_t> GetIntParameter(const Parameters& params, std::string_view key);
std::optional<std::string> GetStringParameter(const Parameters& params, std::string_view key);

struct RequestedOutput {
  std::string name;
  Parameters parameters;  // e.g. classification
  // The HTTP binary extension's "binary_data" when the client sent it as a bool: kept out of
  // `parameters` so that asking for a binary output costs no map node. A "binary_data" in
  // `parameters` (set by code, or sent with another type) is still honoured.
  std::optional<bool> binary_data = {};
};

// Inline room for the usual request (one or two inputs, at most a couple of named outputs), so
// that decoding one allocates no list; more go to the heap.
using RequestInputs = absl::InlinedVector<Tensor, 2>;
using RequestedOutputs = absl::InlinedVector<RequestedOutput, 2>;

struct InferenceRequest {
  std::string model_name;
  int64_t model_version = 0;  // 0: let the model's version policy choose
  std::string id;             // echoed in the response
  Parameters parameters;      // request-level, e.g. binary_data_output
  RequestInputs inputs;
  // Parameters of inputs whose bytes are not in the message (shared_memory_region, …), by input
  // name; those inputs have no data until the handler layer reads it from the region.
  std::map<std::string, Parameters, std::less<>> input_parameters;
  RequestedOutputs outputs;  // empty: every output of the model
  // Set by the frontend when the client goes away; schedulers drop queued work that is
  // cancelled instead of running it. May be null (not cancellable).
  std::shared_ptr<std::atomic<bool>> cancelled;
  // When the client stops waiting (its `timeout` parameter, the gRPC deadline); max(): never.
  // Steps that call other servers (remote steps) give them only what is left.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // The W3C `traceparent` for calls this request makes to other servers: this server's span of
  // the request as the parent when it is traced, else the client's own header; empty: none.
  std::string traceparent;
};

struct InferenceResponse {
  std::string model_name;
  int64_t model_version = 0;
  std::string id;
  Parameters parameters;
  std::vector<Tensor> outputs;
  // Parameters of outputs whose bytes went elsewhere (shared_memory_region, …), by output name;
  // such an output is answered with these parameters and without data.
  std::map<std::string, Parameters, std::less<>> output_parameters;
};

}  // namespace inferd
