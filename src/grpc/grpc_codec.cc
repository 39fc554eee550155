#include "grpc/grpc_codec.h"

#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <limits>
#include <span>
#include <type_traits>
#include <utility>

namespace inferd::grpc {
namespace {

using inference::InferParameter;
using inference::InferTensorContents;
using InputTensor = inference::ModelInferRequest::InferInputTensor;

// The typed contents field a datatype takes its data in; nullptr for FP16/BF16/invalid.
const char* ContentsFieldFor(DataType dtype) {
  switch (dtype) {
    case DataType::kBool:
      return "bool_contents";
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
      return "int_contents";
    case DataType::kInt64:
      return "int64_contents";
    case DataType::kUint8:
    case DataType::kUint16:
    case DataType::kUint32:
      return "uint_contents";
    case DataType::kUint64:
      return "uint64_contents";
    case DataType::kFp32:
      return "fp32_contents";
    case DataType::kFp64:
      return "fp64_contents";
    case DataType::kBytes:
      return "bytes_contents";
    default:
      return nullptr;
  }
}

// Names of the non-empty typed fields of `c`, comma separated ("" when all are empty).
std::string NonEmptyFields(const InferTensorContents& c) {
  std::string out;
  auto add = [&out](int size, const char* name) {
    if (size > 0) out += fmt::format("{}{}", out.empty() ? "" : ", ", name);
  };
  add(c.bool_contents_size(), "bool_contents");
  add(c.int_contents_size(), "int_contents");
  add(c.int64_contents_size(), "int64_contents");
  add(c.uint_contents_size(), "uint_contents");
  add(c.uint64_contents_size(), "uint64_contents");
  add(c.fp32_contents_size(), "fp32_contents");
  add(c.fp64_contents_size(), "fp64_contents");
  add(c.bytes_contents_size(), "bytes_contents");
  return out;
}

// Copies `src` into `tensor` as Dst elements, little endian (the host order on every platform
// inferd builds for), range-checking values that do not fit a narrower Dst.
template <typename Dst, typename Src>
Status FillTyped(const google::protobuf::RepeatedField<Src>& src, Tensor& tensor,
                 const char* field) {
  std::span<std::byte> out = tensor.AllocateData(static_cast<size_t>(src.size()) * sizeof(Dst));
  for (int i = 0; i < src.size(); ++i) {
    const Src v = src.Get(i);
    if constexpr (std::is_integral_v<Dst> && sizeof(Dst) < sizeof(Src)) {
      if (!std::in_range<Dst>(v)) {
        return InvalidArgument(fmt::format("input '{}': {}[{}] = {} is out of range for {}",
                                           tensor.name(), field, i, v,
                                           DataTypeName(tensor.dtype())));
      }
    }
    const Dst d = static_cast<Dst>(v);
    std::memcpy(out.data() + static_cast<size_t>(i) * sizeof(Dst), &d, sizeof(Dst));
  }
  return Status::Ok();
}

Status FillBytes(const google::protobuf::RepeatedPtrField<std::string>& src, Tensor& tensor) {
  std::vector<std::byte> out;
  size_t total = 0;
  for (const auto& s : src) total += 4 + s.size();
  out.reserve(total);
  for (const auto& s : src) {
    if (s.size() > std::numeric_limits<uint32_t>::max()) {
      return InvalidArgument(
          fmt::format("input '{}': a bytes_contents element exceeds 4 GiB", tensor.name()));
    }
    AppendBytesElement(out, s);
  }
  tensor.SetData(std::move(out));
  return Status::Ok();
}

int TypedCount(const InferTensorContents& c, DataType dtype) {
  switch (dtype) {
    case DataType::kBool:
      return c.bool_contents_size();
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
      return c.int_contents_size();
    case DataType::kInt64:
      return c.int64_contents_size();
    case DataType::kUint8:
    case DataType::kUint16:
    case DataType::kUint32:
      return c.uint_contents_size();
    case DataType::kUint64:
      return c.uint64_contents_size();
    case DataType::kFp32:
      return c.fp32_contents_size();
    case DataType::kFp64:
      return c.fp64_contents_size();
    case DataType::kBytes:
      return c.bytes_contents_size();
    default:
      return 0;
  }
}

Status DecodeTypedContents(const InputTensor& in, Tensor& tensor) {
  const DataType dtype = tensor.dtype();
  const char* field = ContentsFieldFor(dtype);
  if (field == nullptr) {
    return InvalidArgument(fmt::format(
        "input '{}': {} data has no typed contents field; send it in raw_input_contents", in.name(),
        DataTypeName(dtype)));
  }
  const InferTensorContents& c = in.contents();
  const int64_t expected = tensor.element_count();
  const int got = TypedCount(c, dtype);
  if (got != expected) {
    const std::string set = NonEmptyFields(c);
    if (got == 0 && !set.empty()) {
      return InvalidArgument(fmt::format(
          "input '{}': datatype {} takes its data in contents.{}, but the request set {}",
          in.name(), DataTypeName(dtype), field, set));
    }
    return InvalidArgument(
        fmt::format("input '{}': contents.{} has {} elements but shape {} needs {}", in.name(),
                    field, got, ShapeToString(tensor.shape()), expected));
  }
  switch (dtype) {
    case DataType::kBool: {
      std::span<std::byte> out = tensor.AllocateData(static_cast<size_t>(got));
      for (int i = 0; i < got; ++i)
        out[i] = std::byte{c.bool_contents(i) ? uint8_t{1} : uint8_t{0}};
      return Status::Ok();
    }
    case DataType::kInt8:
      return FillTyped<int8_t>(c.int_contents(), tensor, field);
    case DataType::kInt16:
      return FillTyped<int16_t>(c.int_contents(), tensor, field);
    case DataType::kInt32:
      return FillTyped<int32_t>(c.int_contents(), tensor, field);
    case DataType::kInt64:
      return FillTyped<int64_t>(c.int64_contents(), tensor, field);
    case DataType::kUint8:
      return FillTyped<uint8_t>(c.uint_contents(), tensor, field);
    case DataType::kUint16:
      return FillTyped<uint16_t>(c.uint_contents(), tensor, field);
    case DataType::kUint32:
      return FillTyped<uint32_t>(c.uint_contents(), tensor, field);
    case DataType::kUint64:
      return FillTyped<uint64_t>(c.uint64_contents(), tensor, field);
    case DataType::kFp32:
      return FillTyped<float>(c.fp32_contents(), tensor, field);
    case DataType::kFp64:
      return FillTyped<double>(c.fp64_contents(), tensor, field);
    case DataType::kBytes:
      return FillBytes(c.bytes_contents(), tensor);
    default:
      break;
  }
  return Internal(fmt::format("input '{}': unhandled datatype", in.name()));
}

Status DecodeRawContents(const std::string& raw, size_t index,
                         const std::shared_ptr<const inference::ModelInferRequest>& owner,
                         Tensor& tensor) {
  tensor.SetData(std::span(reinterpret_cast<const std::byte*>(raw.data()), raw.size()), owner);
  Status s = tensor.ValidateByteSize();
  if (!s.ok()) {
    return InvalidArgument(
        fmt::format("input '{}' (raw_input_contents[{}]): {}", tensor.name(), index, s.message()));
  }
  return Status::Ok();
}

void EncodeParameter(const ParameterValue& value, InferParameter& out) {
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          out.set_bool_param(v);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          out.set_int64_param(v);
        } else if constexpr (std::is_same_v<T, double>) {
          out.set_double_param(v);
        } else {
          out.set_string_param(v);
        }
      },
      value);
}

}  // namespace

Result<int64_t> ParseModelVersion(std::string_view version, std::string_view field) {
  if (version.empty()) return int64_t{0};
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(version.data(), version.data() + version.size(), v);
  if (ec != std::errc() || ptr != version.data() + version.size() || v <= 0) {
    return InvalidArgument(
        fmt::format("{} '{}' is not a positive integer version", field, version));
  }
  return v;
}

Result<Parameters> DecodeParameters(const ProtoParameters& params, std::string_view kind,
                                    std::string_view name) {
  const auto where = [&] {
    return name.empty() ? std::string(kind) : fmt::format("{} '{}'", kind, name);
  };
  Parameters out;
  for (const auto& [key, p] : params) {
    switch (p.parameter_choice_case()) {
      case InferParameter::kBoolParam:
        out.emplace(key, p.bool_param());
        break;
      case InferParameter::kInt64Param:
        out.emplace(key, p.int64_param());
        break;
      case InferParameter::kStringParam:
        out.emplace(key, p.string_param());
        break;
      case InferParameter::kDoubleParam:
        out.emplace(key, p.double_param());
        break;
      case InferParameter::kUint64Param:
        if (p.uint64_param() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return InvalidArgument(fmt::format("{} parameter '{}': uint64_param {} exceeds {}", where(),
                                             key, p.uint64_param(),
                                             std::numeric_limits<int64_t>::max()));
        }
        out.emplace(key, static_cast<int64_t>(p.uint64_param()));
        break;
      case InferParameter::PARAMETER_CHOICE_NOT_SET:
        return InvalidArgument(fmt::format("{} parameter '{}' has no value", where(), key));
    }
  }
  return out;
}

void EncodeParameters(const Parameters& params, ProtoParameters* out) {
  for (const auto& [key, value] : params) EncodeParameter(value, (*out)[key]);
}

Result<InferenceRequest> DecodeModelInferRequest(
    std::shared_ptr<const inference::ModelInferRequest> message) {
  const inference::ModelInferRequest& m = *message;
  InferenceRequest request;
  if (m.model_name().empty()) return InvalidArgument("model_name is empty");
  request.model_name = m.model_name();
  ASSIGN_OR_RETURN(request.model_version, ParseModelVersion(m.model_version(), "model_version"));
  request.id = m.id();
  ASSIGN_OR_RETURN(request.parameters, DecodeParameters(m.parameters(), "request"));

  // Inputs in a shared memory region carry no bytes: raw_input_contents has one entry per
  // other input, in input order (as Triton's clients send them).
  int in_message = 0;
  for (const InputTensor& in : m.inputs()) {
    in_message += in.parameters().count("shared_memory_region") ? 0 : 1;
  }
  const bool raw = m.raw_input_contents_size() > 0;
  if (raw && m.raw_input_contents_size() != in_message) {
    return InvalidArgument(fmt::format(
        "raw_input_contents has {} entries but the request has {} inputs outside shared memory; "
        "send one per such input, in input order, or none",
        m.raw_input_contents_size(), in_message));
  }
  request.inputs.reserve(static_cast<size_t>(m.inputs_size()));
  int next_raw = 0;
  for (int i = 0; i < m.inputs_size(); ++i) {
    const InputTensor& in = m.inputs(i);
    if (in.name().empty()) return InvalidArgument(fmt::format("inputs[{}] has no name", i));
    const DataType dtype = DataTypeFromName(in.datatype());
    if (dtype == DataType::kInvalid) {
      return InvalidArgument(
          fmt::format("input '{}': unknown datatype '{}'", in.name(), in.datatype()));
    }
    Tensor tensor(in.name(), dtype, Shape(in.shape().begin(), in.shape().end()));
    if (tensor.element_count() < 0) {
      return InvalidArgument(
          fmt::format("input '{}': invalid shape {}", in.name(), ShapeToString(tensor.shape())));
    }
    // Parameters other than shared memory ones ("binary_data_size" and the like) have no
    // meaning over gRPC; they are validated so a malformed one is still reported.
    ASSIGN_OR_RETURN(Parameters params, DecodeParameters(in.parameters(), "input", in.name()));
    if (params.contains("shared_memory_region")) {
      if (in.has_contents() && !NonEmptyFields(in.contents()).empty()) {
        return InvalidArgument(fmt::format(
            "input '{}': contents must be empty when shared_memory_region is used", in.name()));
      }
      request.input_parameters[in.name()] = std::move(params);
    } else if (raw) {
      if (in.has_contents() && !NonEmptyFields(in.contents()).empty()) {
        return InvalidArgument(fmt::format(
            "input '{}': contents must be empty when raw_input_contents is used", in.name()));
      }
      RETURN_IF_ERROR(DecodeRawContents(m.raw_input_contents(next_raw),
                                        static_cast<size_t>(next_raw), message, tensor));
      ++next_raw;
    } else {
      RETURN_IF_ERROR(DecodeTypedContents(in, tensor));
    }
    request.inputs.push_back(std::move(tensor));
  }

  request.outputs.reserve(static_cast<size_t>(m.outputs_size()));
  for (const auto& out : m.outputs()) {
    RequestedOutput requested;
    if (out.name().empty()) return InvalidArgument("a requested output has no name");
    requested.name = out.name();
    ASSIGN_OR_RETURN(requested.parameters,
                     DecodeParameters(out.parameters(), "output", out.name()));
    request.outputs.push_back(std::move(requested));
  }
  return request;
}

void EncodeModelInferResponse(const InferenceResponse& response,
                              inference::ModelInferResponse* out) {
  out->set_model_name(response.model_name);
  out->set_model_version(std::to_string(response.model_version));
  out->set_id(response.id);
  EncodeParameters(response.parameters, out->mutable_parameters());
  for (const Tensor& t : response.outputs) {
    auto* o = out->add_outputs();
    o->set_name(t.name());
    o->set_datatype(std::string(DataTypeName(t.dtype())));
    for (int64_t d : t.shape()) o->add_shape(d);
    if (auto it = response.output_parameters.find(t.name());
        it != response.output_parameters.end()) {
      // Written into shared memory: an empty entry keeps raw_output_contents aligned.
      EncodeParameters(it->second, o->mutable_parameters());
    }
    const auto bytes = t.data();
    out->add_raw_output_contents(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
}

}  // namespace inferd::grpc
