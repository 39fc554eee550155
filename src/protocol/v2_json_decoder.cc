// DecodeInferRequest: v2 JSON request body (+ binary tensor section) -> InferenceRequest, and
// the DOM decoder behind it that defines every error message (v2_json_request_decoders.h).
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "protocol/binary_tensor_data.h"
#include "protocol/tensor_json_data.h"
#include "protocol/v2_json_codec.h"
#include "protocol/v2_json_request_decoders.h"

namespace inferd::protocol {
namespace {

namespace dom = simdjson::dom;
using simdjson::SUCCESS;

static_assert(kRequestBodyPadding == simdjson::SIMDJSON_PADDING);

// A parser kept per thread so steady traffic reuses its buffers; one that grew past this many
// bytes of JSON capacity is dropped after the request so a single huge body is not held forever.
constexpr size_t kRetainedParserCapacity = size_t{16} << 20;

// Where a "parameters" object sits, for messages: "request", or "input 'x'" / "output 'y'".
// Formatted only when there is an error to report.
struct ParametersOwner {
  std::string_view kind;  // "request", "input", "output"
  std::string_view name;  // empty for the request
};

std::string Where(const ParametersOwner& owner) {
  return owner.name.empty() ? std::string(owner.kind)
                            : fmt::format("{} '{}'", owner.kind, owner.name);
}

// Parses "parameters" objects: values must be bool, integer, number or string.
Status DecodeParameters(const dom::element& value, const ParametersOwner& context,
                        Parameters& out) {
  dom::object object;
  if (value.get_object().get(object) != SUCCESS) {
    return InvalidArgument(fmt::format("{}: 'parameters' must be an object", Where(context)));
  }
  for (dom::key_value_pair field : object) {
    const dom::element v = field.value;
    ParameterValue parameter;
    switch (v.type()) {
      case dom::element_type::BOOL:
        parameter = v.get_bool().value_unsafe();
        break;
      case dom::element_type::INT64:
        parameter = v.get_int64().value_unsafe();
        break;
      case dom::element_type::DOUBLE:
        parameter = v.get_double().value_unsafe();
        break;
      case dom::element_type::STRING:
        parameter = std::string(v.get_string().value_unsafe());
        break;
      case dom::element_type::UINT64:
        return InvalidArgument(
            fmt::format("{}: parameter '{}' is out of the int64 range", Where(context),
                        field.key));
      default:
        return InvalidArgument(
            fmt::format("{}: parameter '{}' must be a bool, number or string", Where(context),
                        field.key));
    }
    out.insert_or_assign(std::string(field.key), std::move(parameter));
  }
  return Status::Ok();
}

// Looks up an optional field; nullopt when absent.
std::optional<dom::element> Field(const dom::object& object, std::string_view key) {
  dom::element value;
  if (object.at_key(key).get(value) != SUCCESS) return std::nullopt;
  return value;
}

class RequestDecoder {
 public:
  RequestDecoder(std::shared_ptr<const std::string> body, size_t json_size)
      : body_(std::move(body)), binary_offset_(json_size) {}

  Result<InferenceRequest> Decode(const dom::element& root) {
    dom::object object;
    if (root.get_object().get(object) != SUCCESS) {
      return InvalidArgument("request body must be a JSON object");
    }
    InferenceRequest request;
    if (auto id = Field(object, "id")) {
      std::string_view text;
      if (id->get_string().get(text) != SUCCESS) {
        return InvalidArgument("request 'id' must be a string");
      }
      request.id = text;
    }
    if (auto parameters = Field(object, "parameters")) {
      RETURN_IF_ERROR(DecodeParameters(*parameters, {"request", {}}, request.parameters));
    }
    RETURN_IF_ERROR(DecodeInputs(object, request));
    if (binary_offset_ != body_->size()) {
      return InvalidArgument(fmt::format("binary section has {} bytes that no input claims",
                                         body_->size() - binary_offset_));
    }
    if (auto outputs = Field(object, "outputs")) {
      RETURN_IF_ERROR(DecodeOutputs(*outputs, request));
    }
    return request;
  }

 private:
  Status DecodeInputs(const dom::object& object, InferenceRequest& request) {
    auto inputs_field = Field(object, "inputs");
    if (!inputs_field) return InvalidArgument("request has no 'inputs'");
    dom::array inputs;
    if (inputs_field->get_array().get(inputs) != SUCCESS) {
      return InvalidArgument("request 'inputs' must be an array");
    }
    request.inputs.reserve(inputs.size());
    std::set<std::string_view> names;
    size_t index = 0;
    for (dom::element input : inputs) {
      Parameters shared_memory;
      ASSIGN_OR_RETURN(Tensor tensor, DecodeInput(input, index, &shared_memory));
      if (!shared_memory.empty()) request.input_parameters[tensor.name()] = shared_memory;
      if (!names.insert(input.at_key("name").get_string().value_unsafe()).second) {
        return InvalidArgument(fmt::format("input '{}' appears more than once", tensor.name()));
      }
      request.inputs.push_back(std::move(tensor));
      ++index;
    }
    return Status::Ok();
  }

  // An input whose bytes are in a shared memory region gets no data; its parameters go to
  // `shared_memory` for the handler layer, which reads the region.
  Result<Tensor> DecodeInput(const dom::element& input, size_t index, Parameters* shared_memory) {
    dom::object object;
    if (input.get_object().get(object) != SUCCESS) {
      return InvalidArgument(fmt::format("inputs[{}] must be an object", index));
    }
    std::string_view name;
    if (object.at_key("name").get_string().get(name) != SUCCESS) {
      return InvalidArgument(fmt::format("inputs[{}]: 'name' must be a string", index));
    }
    const auto error = [&](std::string_view message) {
      return InvalidArgument(fmt::format("input '{}': {}", name, message));
    };
    std::string_view datatype_name;
    if (object.at_key("datatype").get_string().get(datatype_name) != SUCCESS) {
      return error("'datatype' must be a string");
    }
    const DataType dtype = DataTypeFromName(datatype_name);
    if (dtype == DataType::kInvalid) {
      return error(fmt::format("unknown datatype '{}'", datatype_name));
    }
    ASSIGN_OR_RETURN(Shape shape, DecodeShape(object, name));
    Tensor tensor(std::string(name), dtype, std::move(shape));
    if (tensor.element_count() < 0) {
      return error(fmt::format("shape {} has too many elements", ShapeToString(tensor.shape())));
    }

    std::optional<int64_t> binary_size;
    if (auto parameters_field = Field(object, "parameters")) {
      Parameters parameters;
      RETURN_IF_ERROR(
          DecodeParameters(*parameters_field, {"input", name}, parameters));
      if (parameters.contains("shared_memory_region")) {
        if (Field(object, "data") || parameters.contains("binary_data_size")) {
          return error("has shared_memory_region and also 'data' or binary_data_size");
        }
        *shared_memory = std::move(parameters);
        return tensor;
      }
      if (parameters.contains("binary_data_size")) {
        binary_size = GetIntParameter(parameters, "binary_data_size");
        if (!binary_size || *binary_size < 0) {
          return error("binary_data_size must be a non-negative integer");
        }
      }
    }
    auto data = Field(object, "data");
    if (data && binary_size) return error("has both 'data' and binary_data_size");
    if (data) {
      RETURN_IF_ERROR(DecodeTensorJsonData(*data, tensor));
    } else if (binary_size) {
      RETURN_IF_ERROR(
          BorrowBinaryData(body_, static_cast<size_t>(*binary_size), &binary_offset_, tensor));
    } else {
      return error("has neither 'data' nor binary_data_size");
    }
    return tensor;
  }

  static Result<Shape> DecodeShape(const dom::object& object, std::string_view name) {
    const auto error = InvalidArgument(
        fmt::format("input '{}': 'shape' must be an array of non-negative integers", name));
    dom::array dims;
    if (object.at_key("shape").get_array().get(dims) != SUCCESS) return error;
    Shape shape;
    shape.reserve(dims.size());
    for (dom::element dim : dims) {
      int64_t value;
      if (dim.get_int64().get(value) != SUCCESS || value < 0) return error;
      shape.push_back(value);
    }
    return shape;
  }

  static Status DecodeOutputs(const dom::element& value, InferenceRequest& request) {
    dom::array outputs;
    if (value.get_array().get(outputs) != SUCCESS) {
      return InvalidArgument("request 'outputs' must be an array");
    }
    size_t index = 0;
    for (dom::element output : outputs) {
      dom::object object;
      std::string_view name;
      if (output.get_object().get(object) != SUCCESS) {
        return InvalidArgument(fmt::format("outputs[{}] must be an object", index));
      }
      if (object.at_key("name").get_string().get(name) != SUCCESS) {
        return InvalidArgument(fmt::format("outputs[{}]: 'name' must be a string", index));
      }
      for (const RequestedOutput& previous : request.outputs) {
        if (previous.name == name) {
          return InvalidArgument(fmt::format("output '{}' is requested more than once", name));
        }
      }
      RequestedOutput requested{std::string(name), {}};
      if (auto parameters = Field(object, "parameters")) {
        RETURN_IF_ERROR(
            DecodeParameters(*parameters, {"output", name}, requested.parameters));
        // As the On-Demand decoder keeps it: a bool "binary_data" in its own field.
        auto binary = requested.parameters.find("binary_data");
        if (binary != requested.parameters.end() && std::holds_alternative<bool>(binary->second)) {
          requested.binary_data = std::get<bool>(binary->second);
          requested.parameters.erase(binary);
        }
      }
      request.outputs.push_back(std::move(requested));
      ++index;
    }
    return Status::Ok();
  }

  std::shared_ptr<const std::string> body_;
  size_t binary_offset_;  // start of the binary bytes not yet claimed by an input
};

Status ParseError(simdjson::error_code error, const DecodeLimits& limits) {
  if (error == simdjson::DEPTH_ERROR) {
    return InvalidArgument(fmt::format(
        "unable to parse request body: JSON nesting is deeper than the limit of {} levels",
        limits.max_json_depth));
  }
  return InvalidArgument(
      fmt::format("unable to parse request body: {}", simdjson::error_message(error)));
}

}  // namespace

Result<InferenceRequest> DecodeInferRequestDom(std::shared_ptr<const std::string> body,
                                               size_t json_size, const DecodeLimits& limits) {
  thread_local dom::parser parser;
  if (parser.max_depth() != limits.max_json_depth) {
    const simdjson::error_code error =
        parser.allocate(std::max(parser.capacity(), size_t{64}), limits.max_json_depth);
    if (error != SUCCESS) return Internal(simdjson::error_message(error));
  }
  // Parse in place when the body's allocation has room for simdjson's over-read padding.
  const bool padded = body->capacity() - json_size >= simdjson::SIMDJSON_PADDING;
  const auto decode = [&]() -> Result<InferenceRequest> {
    dom::element root;
    const simdjson::error_code error = parser.parse(body->data(), json_size, !padded).get(root);
    if (error != SUCCESS) return ParseError(error, limits);
    return RequestDecoder(std::move(body), json_size).Decode(root);
  };
  Result<InferenceRequest> result = decode();
  if (parser.capacity() > kRetainedParserCapacity) parser = dom::parser();
  return result;
}

Result<InferenceRequest> DecodeInferRequest(std::shared_ptr<const std::string> body,
                                            std::optional<size_t> header_length,
                                            const DecodeLimits& limits) {
  if (!body) return InvalidArgument("request has no body");
  const size_t json_size = header_length.value_or(body->size());
  if (json_size > body->size()) {
    return InvalidArgument(
        fmt::format("Inference-Header-Content-Length {} is larger than the {} byte request body",
                    json_size, body->size()));
  }
  // The On-Demand decoder takes the well-formed requests; whatever it declines (every error, and
  // a few rare spellings) is decoded again by the DOM decoder, which words the error.
  if (std::optional<InferenceRequest> request =
          TryDecodeInferRequestOnDemand(body, json_size, limits)) {
    return std::move(*request);
  }
  return DecodeInferRequestDom(std::move(body), json_size, limits);
}

}  // namespace inferd::protocol
