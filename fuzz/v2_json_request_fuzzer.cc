// Fuzzes the v2 HTTP request codec: DecodeInferRequest on both framings (all-JSON, and a JSON
// header followed by binary tensor data as Inference-Header-Content-Length announces), then
// EncodeInferResponse on every request that decodes (an identity model's response), so the
// encoder sees whatever the decoder lets through.
//
// DecodeInferRequest runs an On-Demand decoder that leaves errors and rare spellings to the DOM
// decoder (protocol/v2_json_request_decoders.h); every input is also decoded by the DOM decoder
// alone, and any difference in the answer traps.
//
// Input layout: byte 0 picks the framing and the body's padding; for the binary framing bytes
// 1-2 (little endian) are the header length, which may exceed the body (an invalid header); the
// rest is the body.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "protocol/v2_json_codec.h"
#include "protocol/v2_json_request_decoders.h"

namespace {

using inferd::InferenceRequest;
using inferd::InferenceResponse;

void EncodeEcho(const InferenceRequest& request) {
  InferenceResponse response;
  response.model_name = "identity";
  response.model_version = 1;
  response.id = request.id;
  response.parameters = request.parameters;
  response.outputs.assign(request.inputs.begin(), request.inputs.end());
  const auto encoded = inferd::protocol::EncodeInferResponse(response, request);
  if (encoded.header_length && *encoded.header_length > encoded.body.size()) __builtin_trap();
}

bool SameTensor(const inferd::Tensor& a, const inferd::Tensor& b) {
  return a.name() == b.name() && a.dtype() == b.dtype() && a.shape() == b.shape() &&
         a.byte_size() == b.byte_size() &&
         (a.byte_size() == 0 || std::memcmp(a.data().data(), b.data().data(), a.byte_size()) == 0);
}

bool SameRequest(const InferenceRequest& a, const InferenceRequest& b) {
  if (a.id != b.id || a.parameters != b.parameters || a.inputs.size() != b.inputs.size() ||
      a.outputs.size() != b.outputs.size()) {
    return false;
  }
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    if (!SameTensor(a.inputs[i], b.inputs[i])) return false;
  }
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    if (a.outputs[i].name != b.outputs[i].name ||
        a.outputs[i].parameters != b.outputs[i].parameters) {
      return false;
    }
  }
  return true;
}

// The public decoder against the DOM decoder alone: same success, same request, same message.
void CheckAgainstDom(const std::shared_ptr<std::string>& body, std::optional<size_t> header_length,
                     const inferd::protocol::DecodeLimits& limits,
                     const inferd::Result<InferenceRequest>& request) {
  const size_t json_size = header_length.value_or(body->size());
  if (json_size > body->size()) return;  // rejected before either decoder runs
  const auto dom = inferd::protocol::DecodeInferRequestDom(body, json_size, limits);
  if (request.ok() != dom.ok()) __builtin_trap();
  if (request.ok() ? !SameRequest(*request, *dom)
                   : request.status().message() != dom.status().message()) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  ++data;
  --size;
  std::optional<size_t> header_length;
  if (mode & 1) {
    if (size < 2) return 0;
    header_length = static_cast<size_t>(data[0]) | (static_cast<size_t>(data[1]) << 8);
    data += 2;
    size -= 2;
  }
  auto body = std::make_shared<std::string>();
  // Bit 1: reserve simdjson's padding so the decoder parses in place (as the HTTP frontend
  // does); otherwise it copies. Both paths are exercised.
  if (mode & 2) body->reserve(size + inferd::protocol::kRequestBodyPadding);
  body->assign(reinterpret_cast<const char*>(data), size);
  inferd::protocol::DecodeLimits limits;
  if (mode & 4) limits.max_json_depth = 4;

  auto request = inferd::protocol::DecodeInferRequest(body, header_length, limits);
  CheckAgainstDom(body, header_length, limits, request);
  if (request.ok()) EncodeEcho(*request);
  inferd::protocol::EncodeError(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
