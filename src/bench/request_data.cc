#include "bench/request_data.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "protocol/half.h"
#include "protocol/json_text.h"
#include "protocol/v2_json_codec.h"

namespace inferd::bench {
namespace {

using nlohmann::json;

template <typename T>
T Load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Appends the elements of a fixed-size tensor as a flat JSON array.
void AppendJsonData(std::string& out, const Tensor& t) {
  out += '[';
  const std::byte* p = t.data().data();
  const size_t size = DataTypeByteSize(t.dtype());
  const int64_t n = t.element_count();
  for (int64_t i = 0; i < n; ++i, p += size) {
    if (i > 0) out += ',';
    auto integer = [&out](auto v) { fmt::format_to(std::back_inserter(out), "{}", v); };
    switch (t.dtype()) {
      case DataType::kBool: out += Load<uint8_t>(p) ? "true" : "false"; break;
      case DataType::kUint8: integer(Load<uint8_t>(p)); break;
      case DataType::kUint16: integer(Load<uint16_t>(p)); break;
      case DataType::kUint32: integer(Load<uint32_t>(p)); break;
      case DataType::kUint64: integer(Load<uint64_t>(p)); break;
      case DataType::kInt8: integer(Load<int8_t>(p)); break;
      case DataType::kInt16: integer(Load<int16_t>(p)); break;
      case DataType::kInt32: integer(Load<int32_t>(p)); break;
      case DataType::kInt64: integer(Load<int64_t>(p)); break;
      case DataType::kFp16:
        protocol::AppendJsonFloat(out, protocol::HalfToFloat(Load<uint16_t>(p)));
        break;
      case DataType::kBf16:
        protocol::AppendJsonFloat(out, protocol::Bf16ToFloat(Load<uint16_t>(p)));
        break;
      case DataType::kFp32: protocol::AppendJsonFloat(out, Load<float>(p)); break;
      case DataType::kFp64: protocol::AppendJsonDouble(out, Load<double>(p)); break;
      default: out += "null"; break;
    }
  }
  out += ']';
}

void AppendBytesJsonData(std::string& out, const Tensor& t) {
  out += '[';
  auto elements = SplitBytesElements(t.data());
  if (elements.ok()) {
    for (size_t i = 0; i < elements->size(); ++i) {
      if (i > 0) out += ',';
      protocol::AppendJsonString(out, (*elements)[i]);
    }
  }
  out += ']';
}

}  // namespace

Result<std::vector<InputSpec>> ParseModelInputs(std::string_view metadata_json) {
  json doc = json::parse(metadata_json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("inputs") ||
      !doc["inputs"].is_array()) {
    return InvalidArgument("model metadata: no 'inputs' array");
  }
  std::vector<InputSpec> specs;
  for (const json& in : doc["inputs"]) {
    InputSpec spec;
    if (!in.is_object() || !in.contains("name") || !in["name"].is_string() ||
        !in.contains("datatype") || !in["datatype"].is_string() || !in.contains("shape") ||
        !in["shape"].is_array()) {
      return InvalidArgument("model metadata: an input lacks name, datatype or shape");
    }
    spec.name = in["name"].get<std::string>();
    spec.dtype = DataTypeFromName(in["datatype"].get<std::string>());
    if (spec.dtype == DataType::kInvalid) {
      return InvalidArgument("model metadata: input '" + spec.name + "' has an unknown datatype");
    }
    for (const json& d : in["shape"]) {
      if (!d.is_number_integer()) {
        return InvalidArgument("model metadata: input '" + spec.name + "' has a bad shape");
      }
      spec.shape.push_back(d.get<int64_t>());
    }
    specs.push_back(std::move(spec));
  }
  if (specs.empty()) return InvalidArgument("model metadata: the model has no inputs");
  return specs;
}

Result<std::vector<Tensor>> MakeInputs(const std::vector<InputSpec>& specs, int64_t batch_size,
                                       InputFill fill, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::uniform_int_distribution<int> small(0, 99);
  std::vector<Tensor> tensors;
  for (const InputSpec& spec : specs) {
    Shape shape = spec.shape;
    bool first = true;
    for (int64_t& d : shape) {
      if (d < 0) d = first ? batch_size : 1;
      first = false;
    }
    Tensor t(spec.name, spec.dtype, shape);
    const int64_t n = ElementCount(shape);
    if (n < 0) return InvalidArgument("input '" + spec.name + "': shape too large");
    if (spec.dtype == DataType::kBytes) {
      std::vector<std::byte> bytes;
      for (int64_t i = 0; i < n; ++i) {
        std::string element(8, '0');
        if (fill == InputFill::kRandom) {
          for (char& c : element) c = static_cast<char>('a' + small(rng) % 26);
        }
        AppendBytesElement(bytes, element);
      }
      t.SetData(std::move(bytes));
      tensors.push_back(std::move(t));
      continue;
    }
    const size_t size = DataTypeByteSize(spec.dtype);
    std::span<std::byte> data = t.AllocateData(static_cast<size_t>(n) * size);
    if (fill == InputFill::kRandom) {
      for (int64_t i = 0; i < n; ++i) {
        std::byte* p = data.data() + static_cast<size_t>(i) * size;
        const double u = unit(rng);
        const int k = small(rng);
        auto store = [p](auto v) { std::memcpy(p, &v, sizeof(v)); };
        switch (spec.dtype) {
          case DataType::kBool: store(static_cast<uint8_t>(k & 1)); break;
          case DataType::kUint8: store(static_cast<uint8_t>(k)); break;
          case DataType::kUint16: store(static_cast<uint16_t>(k)); break;
          case DataType::kUint32: store(static_cast<uint32_t>(k)); break;
          case DataType::kUint64: store(static_cast<uint64_t>(k)); break;
          case DataType::kInt8: store(static_cast<int8_t>(k)); break;
          case DataType::kInt16: store(static_cast<int16_t>(k)); break;
          case DataType::kInt32: store(static_cast<int32_t>(k)); break;
          case DataType::kInt64: store(static_cast<int64_t>(k)); break;
          case DataType::kFp16: store(protocol::DoubleToHalf(u)); break;
          case DataType::kBf16: store(protocol::DoubleToBf16(u)); break;
          case DataType::kFp32: store(static_cast<float>(u)); break;
          case DataType::kFp64: store(u); break;
          default: break;
        }
      }
    }
    tensors.push_back(std::move(t));
  }
  return tensors;
}

Result<std::vector<Tensor>> LoadInputsFromFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return NotFound("input data file '" + path + "' cannot be read");
  std::ostringstream text;
  text << file.rdbuf();
  auto body = std::make_shared<std::string>(text.str());
  body->reserve(body->size() + protocol::kRequestBodyPadding);
  auto request = protocol::DecodeInferRequest(body, std::nullopt);
  if (!request.ok()) return request.status().WithContext("input data file '" + path + "'");
  // Decoded JSON data is owned by the tensors, so they outlive `body`.
  return std::vector<Tensor>(std::make_move_iterator(request->inputs.begin()),
                             std::make_move_iterator(request->inputs.end()));
}

HttpBody EncodeHttpRequest(const std::vector<Tensor>& inputs, bool binary) {
  HttpBody out;
  std::string& s = out.body;
  s += "{\"inputs\":[";
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (i > 0) s += ',';
    s += "{\"name\":";
    protocol::AppendJsonString(s, t.name());
    fmt::format_to(std::back_inserter(s), ",\"datatype\":\"{}\",\"shape\":[{}]",
                   DataTypeName(t.dtype()), fmt::join(t.shape(), ","));
    if (binary) {
      fmt::format_to(std::back_inserter(s), ",\"parameters\":{{\"binary_data_size\":{}}}}}",
                     t.byte_size());
    } else {
      s += ",\"data\":";
      if (t.dtype() == DataType::kBytes) {
        AppendBytesJsonData(s, t);
      } else {
        AppendJsonData(s, t);
      }
      s += '}';
    }
  }
  s += ']';
  if (binary) s += ",\"parameters\":{\"binary_data_output\":true}";
  s += '}';
  if (binary) {
    out.header_length = s.size();
    for (const Tensor& t : inputs) {
      s.append(reinterpret_cast<const char*>(t.data().data()), t.byte_size());
    }
  }
  return out;
}

}  // namespace inferd::bench
