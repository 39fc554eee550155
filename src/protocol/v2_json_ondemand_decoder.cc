// TryDecodeInferRequestOnDemand (v2_json_request_decoders.h): one forward pass over the request
// with simdjson On-Demand. It mirrors the DOM decoder in v2_json_decoder.cc field by field but
// never words an error: on anything the DOM decoder would reject, and on a few valid but rare
// spellings (duplicate keys, escaped "data" keys that need a second look, nesting near the depth
// limit), it returns nullopt and the DOM decoder decides. Every value of the body is read or
// validated, as the DOM parser validates the whole body, so it never accepts invalid JSON.
#include <simdjson.h>

#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "protocol/binary_tensor_data.h"
#include "protocol/tensor_json_data.h"
#include "protocol/v2_json_request_decoders.h"

namespace inferd::protocol {
namespace {

namespace ondemand = simdjson::ondemand;
using simdjson::SUCCESS;

// As the DOM decoder's parser: a parser that grew past this is dropped after the request.
constexpr size_t kRetainedParserCapacity = size_t{16} << 20;

// Nesting depths, counted as containers open around and including a value: the root object is
// at depth 1, its "inputs" array at 2, an input at 3, its "data" array at 4 (and an output's
// fields at 4 too).
constexpr int kRootFieldDepth = 2;
constexpr int kInputFieldDepth = 4;

// Reads every value below `value` so that malformed JSON there is caught, as the DOM parser
// catches it; the values themselves are ignored (unknown fields).
bool Validate(ondemand::value value, int depth, int max_depth) {
  ondemand::json_type type;
  if (value.type().get(type) != SUCCESS) return false;
  switch (type) {
    case ondemand::json_type::array: {
      if (depth > max_depth) return false;
      ondemand::array array;
      if (value.get_array().get(array) != SUCCESS) return false;
      for (auto element : array) {
        ondemand::value child;
        if (element.get(child) != SUCCESS || !Validate(child, depth + 1, max_depth)) return false;
      }
      return true;
    }
    case ondemand::json_type::object: {
      if (depth > max_depth) return false;
      ondemand::object object;
      if (value.get_object().get(object) != SUCCESS) return false;
      for (auto field : object) {
        std::string_view key;
        ondemand::value child;
        if (field.unescaped_key().get(key) != SUCCESS || field.value().get(child) != SUCCESS ||
            !Validate(child, depth + 1, max_depth)) {
          return false;
        }
      }
      return true;
    }
    case ondemand::json_type::number: {
      // Numbers the DOM parser reads as doubles or 64-bit integers; big integers are declined.
      ondemand::number number;
      return value.get_number().get(number) == SUCCESS;
    }
    case ondemand::json_type::string: {
      std::string_view text;
      return value.get_string().get(text) == SUCCESS;
    }
    case ondemand::json_type::boolean: {
      bool b;
      return value.get_bool().get(b) == SUCCESS;
    }
    case ondemand::json_type::null: {
      bool is_null = false;
      return value.is_null().get(is_null) == SUCCESS && is_null;
    }
  }
  return false;
}

// A "parameters" object: bool, int64, double or string values (the DOM decoder's types), each
// handed to `take(key, value)`. The key view is only valid until the next string is read:
// `key_first(key)` runs before the value is read, and what it returns goes to `take`.
template <typename KeyFirst, typename Take>
bool ForEachParameter(ondemand::value value, KeyFirst key_first, Take take) {
  ondemand::object object;
  if (value.get_object().get(object) != SUCCESS) return false;
  for (auto field : object) {
    std::string_view key;
    ondemand::value v;
    ondemand::json_type type;
    if (field.unescaped_key().get(key) != SUCCESS || field.value().get(v) != SUCCESS ||
        v.type().get(type) != SUCCESS) {
      return false;
    }
    auto name = key_first(key);
    ParameterValue parameter;
    if (type == ondemand::json_type::boolean) {
      bool b;
      if (v.get_bool().get(b) != SUCCESS) return false;
      parameter = b;
    } else if (type == ondemand::json_type::string) {
      std::string_view text;
      if (v.get_string().get(text) != SUCCESS) return false;
      parameter = std::string(text);
    } else if (type == ondemand::json_type::number) {
      ondemand::number number;
      if (v.get_number().get(number) != SUCCESS) return false;
      if (number.is_int64()) {
        parameter = number.get_int64();
      } else if (number.is_double()) {
        parameter = number.get_double();
      } else {
        return false;  // beyond int64: an error in the DOM decoder
      }
    } else {
      return false;
    }
    take(std::move(name), std::move(parameter));
  }
  return true;
}

bool DecodeParameters(ondemand::value value, Parameters& out) {
  return ForEachParameter(
      value, [](std::string_view key) { return std::string(key); },
      [&out](std::string name, ParameterValue parameter) {
        out.insert_or_assign(std::move(name), std::move(parameter));
      });
}

// A requested output's "parameters": a bool "binary_data" goes to its own field (no map node),
// the rest to the map; the last of repeated keys wins, as in a map.
bool DecodeOutputParameters(ondemand::value value, RequestedOutput& out) {
  return ForEachParameter(
      value, [](std::string_view key) { return std::string(key); },
      [&out](std::string name, ParameterValue parameter) {
        if (name == "binary_data") {
          out.binary_data.reset();
          if (const bool* binary = std::get_if<bool>(&parameter)) {
            out.parameters.erase(name);
            out.binary_data = *binary;
            return;
          }
        }
        out.parameters.insert_or_assign(std::move(name), std::move(parameter));
      });
}

// An input's "parameters": only "binary_data_size" is kept (the last one, as a map keeps it),
// the rest is validated as DecodeParameters validates it, and nothing is allocated for it.
bool DecodeInputParameters(ondemand::value value, std::optional<ParameterValue>& binary_size) {
  return ForEachParameter(
      value, [](std::string_view key) { return key == "binary_data_size"; },
      [&binary_size](bool is_binary_size, ParameterValue parameter) {
        if (is_binary_size) binary_size = std::move(parameter);
      });
}

bool DecodeShape(ondemand::value value, Shape& shape) {
  ondemand::array dims;
  if (value.get_array().get(dims) != SUCCESS) return false;
  for (auto element : dims) {
    ondemand::value dim;
    int64_t size;
    if (element.get(dim) != SUCCESS) return false;
    // A negative dimension is an error either way; declining every '-' also leaves "-0" (a
    // double to the DOM parser, an integer to On-Demand's get_int64) to the DOM decoder.
    if (dim.raw_json_token().starts_with('-')) return false;
    if (dim.get_int64().get(size) != SUCCESS) return false;
    shape.push_back(size);
  }
  return true;
}

class OnDemandRequestDecoder {
 public:
  OnDemandRequestDecoder(const std::shared_ptr<const std::string>& body, size_t json_size,
                         const DecodeLimits& limits)
      : body_(body),
        json_size_(json_size),
        binary_offset_(json_size),
        // Two levels short of the limit, so that whatever the DOM parser counts as the limit,
        // anything close to it is left to the DOM decoder.
        max_depth_(static_cast<int>(limits.max_json_depth) - 2) {}

  bool Decode(ondemand::document& document, InferenceRequest& request) {
    ondemand::object root;
    if (max_depth_ < kInputFieldDepth || document.get_object().get(root) != SUCCESS) {
      return false;
    }
    bool has_id = false, has_parameters = false, has_inputs = false, has_outputs = false;
    for (auto field : root) {
      std::string_view key;
      ondemand::value value;
      if (field.unescaped_key().get(key) != SUCCESS || field.value().get(value) != SUCCESS) {
        return false;
      }
      bool ok;
      if (key == "id") {
        std::string_view id;
        ok = !std::exchange(has_id, true) && value.get_string().get(id) == SUCCESS;
        request.id = id;
      } else if (key == "parameters") {
        ok = !std::exchange(has_parameters, true) && DecodeParameters(value, request.parameters);
      } else if (key == "inputs") {
        ok = !std::exchange(has_inputs, true) && DecodeInputs(value, request);
      } else if (key == "outputs") {
        ok = !std::exchange(has_outputs, true) && DecodeOutputs(value, request);
      } else {
        ok = Validate(value, kRootFieldDepth, max_depth_);
      }
      if (!ok) return false;
    }
    // Anything after the root object (OUT_OF_BOUNDS: nothing) is an error to the DOM parser.
    return has_inputs && document.current_location().error() == simdjson::OUT_OF_BOUNDS &&
           binary_offset_ == body_->size();
  }

 private:
  bool DecodeInputs(ondemand::value value, InferenceRequest& request) {
    ondemand::array inputs;
    if (value.get_array().get(inputs) != SUCCESS) return false;
    for (auto element : inputs) {
      ondemand::value input;
      Tensor tensor;
      if (element.get(input) != SUCCESS || !DecodeInput(input, tensor)) return false;
      request.inputs.push_back(std::move(tensor));
    }
    return !HasDuplicateName(request.inputs);  // no inputs is valid for a model that has none
  }

  // Pairwise for the few inputs of most requests (no allocation), through a set for many.
  static bool HasDuplicateName(std::span<const Tensor> tensors) {
    constexpr size_t kPairwiseUpTo = 16;
    if (tensors.size() <= kPairwiseUpTo) {
      for (size_t i = 0; i < tensors.size(); ++i) {
        for (size_t j = i + 1; j < tensors.size(); ++j) {
          if (tensors[i].name() == tensors[j].name()) return true;
        }
      }
      return false;
    }
    std::set<std::string_view> names;  // views into the tensors' names, which are not moved
    for (const Tensor& tensor : tensors) {
      if (!names.insert(tensor.name()).second) return true;
    }
    return false;
  }

  bool DecodeInput(ondemand::value value, Tensor& tensor) {
    ondemand::object object;
    if (value.get_object().get(object) != SUCCESS) return false;
    bool has_name = false, has_datatype = false, has_shape = false, has_parameters = false;
    bool has_data = false, data_decoded = false;
    std::string name;
    DataType dtype = DataType::kInvalid;
    Shape shape;
    std::optional<ParameterValue> binary_size;  // the input's parameters hold nothing else used
    for (auto field : object) {
      // The raw key is taken first: unescaping it consumes it.
      ondemand::raw_json_string raw_key;
      std::string_view key;
      ondemand::value v;
      if (field.key().get(raw_key) != SUCCESS || field.unescaped_key().get(key) != SUCCESS ||
          field.value().get(v) != SUCCESS) {
        return false;
      }
      bool ok = true;
      if (key == "name") {
        std::string_view text;
        ok = !std::exchange(has_name, true) && v.get_string().get(text) == SUCCESS;
        name = text;
      } else if (key == "datatype") {
        std::string_view text;
        ok = !std::exchange(has_datatype, true) && v.get_string().get(text) == SUCCESS;
        dtype = DataTypeFromName(text);
      } else if (key == "shape") {
        ok = !std::exchange(has_shape, true) && DecodeShape(v, shape);
      } else if (key == "parameters") {
        ok = !std::exchange(has_parameters, true) && DecodeInputParameters(v, binary_size);
      } else if (key == "data") {
        ok = !std::exchange(has_data, true);
        // "data" usually comes last; when it comes before the name, datatype or shape it is
        // skipped now and read in a second pass over this object.
        if (ok && has_name && has_datatype && has_shape) {
          ok = MakeTensor(std::move(name), dtype, std::move(shape), tensor) &&
               TryDecodeTensorJsonData(v, kInputFieldDepth, max_depth_, json_size_, tensor);
          data_decoded = true;
        } else if (ok) {
          // The second pass finds the key by its raw text, so it must need no unescaping.
          ok = raw_key.unsafe_is_equal("data");
        }
      } else {
        ok = Validate(v, kInputFieldDepth, max_depth_);
      }
      if (!ok) return false;
    }
    if (!data_decoded) {
      if (!has_name || !has_datatype || !has_shape) return false;
      if (!MakeTensor(std::move(name), dtype, std::move(shape), tensor)) return false;
      if (has_data && !DecodeDataInSecondPass(object, tensor)) return false;
    }
    return ClaimBinaryData(has_data, binary_size, tensor);
  }

  static bool MakeTensor(std::string name, DataType dtype, Shape shape, Tensor& tensor) {
    if (dtype == DataType::kInvalid) return false;
    tensor = Tensor(std::move(name), dtype, std::move(shape));
    return tensor.element_count() >= 0;
  }

  bool DecodeDataInSecondPass(ondemand::object& object, Tensor& tensor) {
    bool reset;
    if (object.reset().get(reset) != SUCCESS) return false;
    for (auto field : object) {
      ondemand::raw_json_string key;
      if (field.key().get(key) != SUCCESS) return false;
      // Raw comparison: the keys were unescaped in the first pass and are not again (that could
      // outgrow the parser's string buffer).
      if (key.unsafe_is_equal("data")) {
        ondemand::value data;
        return field.value().get(data) == SUCCESS &&
               TryDecodeTensorJsonData(data, kInputFieldDepth, max_depth_, json_size_, tensor);
      }
    }
    return false;
  }

  // The binary extension: "parameters": {"binary_data_size": N} instead of "data".
  bool ClaimBinaryData(bool has_data, const std::optional<ParameterValue>& binary_size,
                       Tensor& tensor) {
    if (!binary_size) return has_data;
    const int64_t* size = std::get_if<int64_t>(&*binary_size);
    if (has_data || size == nullptr || *size < 0) return false;
    return BorrowBinaryData(body_, static_cast<size_t>(*size), &binary_offset_, tensor).ok();
  }

  bool DecodeOutputs(ondemand::value value, InferenceRequest& request) {
    ondemand::array outputs;
    if (value.get_array().get(outputs) != SUCCESS) return false;
    for (auto element : outputs) {
      ondemand::object object;
      if (element.get_object().get(object) != SUCCESS) return false;
      bool has_name = false, has_parameters = false;
      RequestedOutput requested;
      for (auto field : object) {
        std::string_view key;
        ondemand::value v;
        if (field.unescaped_key().get(key) != SUCCESS || field.value().get(v) != SUCCESS) {
          return false;
        }
        bool ok;
        if (key == "name") {
          std::string_view text;
          ok = !std::exchange(has_name, true) && v.get_string().get(text) == SUCCESS;
          requested.name = text;
        } else if (key == "parameters") {
          ok = !std::exchange(has_parameters, true) && DecodeOutputParameters(v, requested);
        } else {
          ok = Validate(v, kInputFieldDepth, max_depth_);
        }
        if (!ok) return false;
      }
      if (!has_name) return false;
      for (const RequestedOutput& previous : request.outputs) {
        if (previous.name == requested.name) return false;
      }
      request.outputs.push_back(std::move(requested));
    }
    return true;
  }

  const std::shared_ptr<const std::string>& body_;
  size_t json_size_;
  size_t binary_offset_;  // start of the binary bytes not yet claimed by an input
  int max_depth_;         // deepest nesting this decoder accepts
};

}  // namespace

std::optional<InferenceRequest> TryDecodeInferRequestOnDemand(
    const std::shared_ptr<const std::string>& body, size_t json_size, const DecodeLimits& limits) {
  thread_local ondemand::parser parser;
  // On-Demand reads up to SIMDJSON_PADDING bytes past the JSON; a body without that slack in its
  // allocation is copied (as the DOM decoder copies it).
  simdjson::padded_string copy;
  const char* json = body->data();
  if (body->capacity() - json_size < simdjson::SIMDJSON_PADDING) {
    copy = simdjson::padded_string(body->data(), json_size);
    json = copy.data();
  }
  std::optional<InferenceRequest> result;
  ondemand::document document;
  if (parser.iterate(json, json_size, json_size + simdjson::SIMDJSON_PADDING).get(document) ==
      SUCCESS) {
    InferenceRequest request;
    if (OnDemandRequestDecoder(body, json_size, limits).Decode(document, request)) {
      result = std::move(request);
    }
  }
  if (parser.capacity() > kRetainedParserCapacity) parser = ondemand::parser();
  return result;
}

}  // namespace inferd::protocol
