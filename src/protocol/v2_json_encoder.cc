// EncodeInferResponse / EncodeError: InferenceResponse -> v2 JSON body (+ binary tensor section).
// The JSON text is written straight into the body string; binary outputs are appended after it.
#include <fmt/compile.h>
#include <fmt/format.h>

#include <cstring>
#include <span>
#include <vector>

#include "protocol/half.h"
#include "protocol/json_text.h"
#include "protocol/v2_json_codec.h"

namespace inferd::protocol {
namespace {

bool WantsBinary(const std::string& output_name, const InferenceRequest& request) {
  for (const RequestedOutput& requested : request.outputs) {
    if (requested.name != output_name) continue;
    if (requested.binary_data) return *requested.binary_data;
    if (auto binary = GetBoolParameter(requested.parameters, "binary_data")) return *binary;
    break;
  }
  return GetBoolParameter(request.parameters, "binary_data_output").value_or(false);
}

// Calls append(out, element) for each element of type T in `data`, comma separated.
template <typename T, typename Append>
void AppendElements(std::string& out, std::span<const std::byte> data, size_t text_per_element,
                    Append append) {
  const size_t count = data.size() / sizeof(T);
  out.reserve(out.size() + count * text_per_element);
  for (size_t i = 0; i < count; ++i) {
    T value;
    std::memcpy(&value, data.data() + i * sizeof(T), sizeof(T));
    if (i != 0) out += ',';
    append(out, value);
  }
}

template <typename T>
void AppendIntegers(std::string& out, std::span<const std::byte> data) {
  AppendElements<T>(out, data, 4, [](std::string& text, T value) {
    char buf[24];
    // Widen 8-bit types so that fmt prints numbers, not characters.
    using Printed = std::conditional_t<sizeof(T) == 1, int, T>;
    char* end = fmt::format_to(buf, FMT_COMPILE("{}"), static_cast<Printed>(value));
    text.append(buf, end);
  });
}

// Appends the elements of a BYTES tensor as JSON strings; false (and nothing appended) when an
// element is not valid UTF-8 or the layout is broken, so the caller sends it binary instead.
bool AppendBytesStrings(std::string& out, const Tensor& tensor) {
  auto elements = SplitBytesElements(tensor.data());
  if (!elements.ok()) return false;
  for (std::string_view element : *elements) {
    if (!IsValidUtf8(element)) return false;
  }
  for (size_t i = 0; i < elements->size(); ++i) {
    if (i != 0) out += ',';
    AppendJsonString(out, (*elements)[i]);
  }
  return true;
}

// Appends "[...]" with the tensor's elements; false if it cannot be JSON (`out` is then unusable
// past its size on entry, which the caller restores).
bool AppendData(std::string& out, const Tensor& tensor) {
  const std::span<const std::byte> data = tensor.data();
  out += '[';
  switch (tensor.dtype()) {
    case DataType::kBool:
      AppendElements<uint8_t>(out, data, 5, [](std::string& text, uint8_t value) {
        text += value != 0 ? "true" : "false";
      });
      break;
    case DataType::kUint8:
      AppendIntegers<uint8_t>(out, data);
      break;
    case DataType::kUint16:
      AppendIntegers<uint16_t>(out, data);
      break;
    case DataType::kUint32:
      AppendIntegers<uint32_t>(out, data);
      break;
    case DataType::kUint64:
      AppendIntegers<uint64_t>(out, data);
      break;
    case DataType::kInt8:
      AppendIntegers<int8_t>(out, data);
      break;
    case DataType::kInt16:
      AppendIntegers<int16_t>(out, data);
      break;
    case DataType::kInt32:
      AppendIntegers<int32_t>(out, data);
      break;
    case DataType::kInt64:
      AppendIntegers<int64_t>(out, data);
      break;
    case DataType::kFp16:
      AppendElements<uint16_t>(out, data, 8, [](std::string& text, uint16_t bits) {
        AppendJsonFloat(text, HalfToFloat(bits));
      });
      break;
    case DataType::kBf16:
      AppendElements<uint16_t>(out, data, 8, [](std::string& text, uint16_t bits) {
        AppendJsonFloat(text, Bf16ToFloat(bits));
      });
      break;
    case DataType::kFp32:
      AppendElements<float>(out, data, 12,
                            [](std::string& text, float value) { AppendJsonFloat(text, value); });
      break;
    case DataType::kFp64:
      AppendElements<double>(
          out, data, 20, [](std::string& text, double value) { AppendJsonDouble(text, value); });
      break;
    case DataType::kBytes:
    case DataType::kInvalid:
      if (!AppendBytesStrings(out, tensor)) return false;
      break;
  }
  out += ']';
  return true;
}

void AppendParameters(std::string& out, const Parameters& parameters) {
  out += '{';
  bool first = true;
  for (const auto& [key, value] : parameters) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, key);
    out += ':';
    if (const bool* b = std::get_if<bool>(&value)) {
      out += *b ? "true" : "false";
    } else if (const int64_t* i = std::get_if<int64_t>(&value)) {
      fmt::format_to(std::back_inserter(out), FMT_COMPILE("{}"), *i);
    } else if (const double* d = std::get_if<double>(&value)) {
      AppendJsonDouble(out, *d);
    } else {
      AppendJsonString(out, std::get<std::string>(value));
    }
  }
  out += '}';
}

// Appends one output object; returns true when its data goes in the binary section instead.
bool AppendOutput(std::string& out, const Tensor& tensor, bool binary) {
  out += R"({"name":)";
  AppendJsonString(out, tensor.name());
  out += R"(,"datatype":")";
  out += DataTypeName(tensor.dtype());
  out += R"(","shape":[)";
  fmt::format_to(std::back_inserter(out), FMT_COMPILE("{}"), fmt::join(tensor.shape(), ","));
  out += ']';
  if (!binary) {
    const size_t mark = out.size();
    out += R"(,"data":)";
    if (AppendData(out, tensor)) {
      out += '}';
      return false;
    }
    out.resize(mark);
  }
  fmt::format_to(std::back_inserter(out),
                 FMT_COMPILE(R"(,"parameters":{{"binary_data_size":{}}}}})"), tensor.byte_size());
  return true;
}

// An output whose bytes went elsewhere (a shared memory region): its parameters, no data.
void AppendElsewhereOutput(std::string& out, const Tensor& tensor, const Parameters& params) {
  out += R"({"name":)";
  AppendJsonString(out, tensor.name());
  out += R"(,"datatype":")";
  out += DataTypeName(tensor.dtype());
  out += R"(","shape":[)";
  fmt::format_to(std::back_inserter(out), FMT_COMPILE("{}"), fmt::join(tensor.shape(), ","));
  out += R"(],"parameters":)";
  AppendParameters(out, params);
  out += '}';
}

}  // namespace

bool AppendTensorJsonData(std::string& out, const Tensor& tensor) {
  return AppendData(out, tensor);
}

void EncodeInferResponseInto(const InferenceResponse& response, const InferenceRequest& request,
                             EncodedInferResponse& encoded) {
  std::string& body = encoded.body;
  body.clear();  // keeps its capacity: a connection reuses one buffer for its answers
  encoded.header_length.reset();
  body += R"({"model_name":)";
  AppendJsonString(body, response.model_name);
  fmt::format_to(std::back_inserter(body), FMT_COMPILE(R"(,"model_version":"{}")"),
                 response.model_version);
  if (!response.id.empty()) {
    body += R"(,"id":)";
    AppendJsonString(body, response.id);
  }
  if (!response.parameters.empty()) {
    body += R"(,"parameters":)";
    AppendParameters(body, response.parameters);
  }
  body += R"(,"outputs":[)";
  // Which outputs went binary: asked for, or not representable in JSON (AppendOutput decides).
  // A bit per output; past 64 outputs, a vector.
  uint64_t binary_mask = 0;
  std::vector<bool> binary_more;
  if (response.outputs.size() > 64) binary_more.resize(response.outputs.size());
  size_t binary_size = 0;
  bool any_binary = false;
  for (size_t i = 0; i < response.outputs.size(); ++i) {
    const Tensor& output = response.outputs[i];
    if (i > 0) body += ',';
    if (!response.output_parameters.empty()) {
      if (auto it = response.output_parameters.find(output.name());
          it != response.output_parameters.end()) {
        AppendElsewhereOutput(body, output, it->second);  // written to shared memory
        continue;
      }
    }
    if (AppendOutput(body, output, WantsBinary(output.name(), request))) {
      any_binary = true;
      binary_size += output.byte_size();
      if (i < 64) binary_mask |= uint64_t{1} << i;
      if (!binary_more.empty()) binary_more[i] = true;
    }
  }
  body += "]}";
  if (!any_binary) return;
  encoded.header_length = body.size();
  body.reserve(body.size() + binary_size);
  for (size_t i = 0; i < response.outputs.size(); ++i) {
    const bool binary = binary_more.empty() ? (binary_mask >> i) & 1 : binary_more[i];
    if (!binary) continue;
    const Tensor& output = response.outputs[i];
    body.append(reinterpret_cast<const char*>(output.data().data()), output.byte_size());
  }
}

EncodedInferResponse EncodeInferResponse(const InferenceResponse& response,
                                         const InferenceRequest& request) {
  EncodedInferResponse encoded;
  EncodeInferResponseInto(response, request, encoded);
  return encoded;
}

std::string EncodeError(std::string_view message) {
  std::string body = R"({"error":)";
  AppendJsonString(body, message);
  body += '}';
  return body;
}

}  // namespace inferd::protocol
