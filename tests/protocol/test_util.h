// Helpers shared by the protocol tests: building request bodies and reading tensor bytes.
#pragma once

#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/inference_request.h"
#include "protocol/v2_json_codec.h"

namespace inferd::protocol::testing {

// Decodes an all-JSON body.
inline Result<InferenceRequest> DecodeJson(std::string json, const DecodeLimits& limits = {}) {
  return DecodeInferRequest(std::make_shared<const std::string>(std::move(json)), std::nullopt,
                            limits);
}

// Decodes `json` followed by `binary`, with the header length set to the JSON's size.
inline Result<InferenceRequest> DecodeWithBinary(const std::string& json,
                                                 const std::string& binary) {
  return DecodeInferRequest(std::make_shared<const std::string>(json + binary), json.size());
}

// The little-endian bytes of `values`, as a string (the binary section layout).
template <typename T>
std::string RawBytes(std::initializer_list<T> values) {
  std::string out(values.size() * sizeof(T), '\0');
  size_t at = 0;
  for (T value : values) {
    std::memcpy(out.data() + at, &value, sizeof(T));
    at += sizeof(T);
  }
  return out;
}

// The length-prefixed BYTES layout of `elements`.
inline std::string BytesLayout(std::initializer_list<std::string> elements) {
  std::string out;
  for (const std::string& element : elements) {
    const auto len = static_cast<uint32_t>(element.size());
    out.append(reinterpret_cast<const char*>(&len), 4);
    out += element;
  }
  return out;
}

inline std::string TensorBytes(const Tensor& tensor) {
  return {reinterpret_cast<const char*>(tensor.data().data()), tensor.byte_size()};
}

}  // namespace inferd::protocol::testing
