#include "protocol/tensor_json_data.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "protocol/half.h"

namespace inferd::protocol {
namespace {

namespace dom = simdjson::dom;
using simdjson::SUCCESS;

std::string_view JsonTypeName(const dom::element& e) {
  switch (e.type()) {
    case dom::element_type::ARRAY:
      return "an array";
    case dom::element_type::OBJECT:
      return "an object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
      return "an integer";
    case dom::element_type::DOUBLE:
      return "a number";
    case dom::element_type::STRING:
      return "a string";
    case dom::element_type::BOOL:
      return "a bool";
    case dom::element_type::NULL_VALUE:
      return "null";
  }
  return "an unknown value";
}

Status InputError(const Tensor& tensor, std::string_view message) {
  return InvalidArgument(fmt::format("input '{}': {}", tensor.name(), message));
}

// Checks that nested `data` matches the shape from dimension `dim` on and collects the innermost
// arrays (the rows) in row-major order. `path` is the index path so far, for messages.
Status CollectRows(const Tensor& tensor, dom::array data, size_t dim, std::string& path,
                   std::vector<dom::array>& rows) {
  const Shape& shape = tensor.shape();
  if (data.size() != static_cast<size_t>(shape[dim])) {
    return InputError(tensor, fmt::format("nested data does not match shape {}: data{} has {} "
                                          "elements, expected {}",
                                          ShapeToString(shape), path, data.size(), shape[dim]));
  }
  const bool innermost = dim + 1 == shape.size();
  size_t index = 0;
  for (dom::element child : data) {
    const bool is_array = child.type() == dom::element_type::ARRAY;
    if (innermost == is_array) {
      return InputError(
          tensor, fmt::format("nested data does not match shape {}: data{}[{}] is {}",
                              ShapeToString(shape), path, index,
                              is_array ? "an array nested deeper than the shape" : "not an array"));
    }
    if (!innermost) {
      const size_t path_size = path.size();
      path += fmt::format("[{}]", index);
      RETURN_IF_ERROR(CollectRows(tensor, child.get_array().value_unsafe(), dim + 1, path, rows));
      path.resize(path_size);
    }
    ++index;
  }
  if (innermost) rows.push_back(data);
  return Status::Ok();
}

// The rows of `data` (one row when it is flat), after checking the element count.
Result<std::vector<dom::array>> Rows(const Tensor& tensor, const dom::element& data) {
  dom::array top;
  if (data.get_array().get(top) != SUCCESS) {
    return InputError(tensor, fmt::format("'data' must be an array, got {}", JsonTypeName(data)));
  }
  std::vector<dom::array> rows;
  const bool nested = top.size() > 0 && (*top.begin()).type() == dom::element_type::ARRAY;
  if (nested) {
    if (tensor.shape().empty()) {
      return InputError(tensor, "nested data for a scalar (shape [])");
    }
    std::string path;
    RETURN_IF_ERROR(CollectRows(tensor, top, 0, path, rows));
    return rows;
  }
  const auto expected = static_cast<size_t>(tensor.element_count());
  if (top.size() != expected) {
    return InputError(tensor, fmt::format("expected {} elements for shape {}, got {}", expected,
                                          ShapeToString(tensor.shape()), top.size()));
  }
  rows.push_back(top);
  return rows;
}

bool ReadDouble(const dom::element& e, double& out) {
  if (e.get_double().get(out) == SUCCESS) return true;
  std::string_view text;
  if (e.get_string().get(text) != SUCCESS) return false;
  if (text == "NaN") {
    out = std::numeric_limits<double>::quiet_NaN();
  } else if (text == "Infinity") {
    out = std::numeric_limits<double>::infinity();
  } else if (text == "-Infinity") {
    out = -std::numeric_limits<double>::infinity();
  } else {
    return false;
  }
  return true;
}

// Per-datatype conversion of one JSON value; false when the value does not fit the type.
template <typename T>
bool ReadInteger(const dom::element& e, T& out) {
  if constexpr (std::is_same_v<T, uint64_t>) {
    return e.get_uint64().get(out) == SUCCESS;
  } else {
    int64_t v;
    if (e.get_int64().get(v) != SUCCESS || !std::in_range<T>(v)) return false;
    out = static_cast<T>(v);
    return true;
  }
}

bool ReadBool(const dom::element& e, uint8_t& out) {
  bool v;
  if (e.get_bool().get(v) != SUCCESS) return false;
  out = v ? 1 : 0;
  return true;
}

bool ReadFp64(const dom::element& e, double& out) { return ReadDouble(e, out); }

bool ReadFp32(const dom::element& e, float& out) {
  double d;
  if (!ReadDouble(e, d)) return false;
  out = static_cast<float>(d);
  return !(std::isinf(out) && std::isfinite(d));
}

bool ReadFp16(const dom::element& e, uint16_t& out) {
  double d;
  if (!ReadDouble(e, d)) return false;
  out = DoubleToHalf(d);
  return !((out & 0x7FFF) == 0x7C00 && std::isfinite(d));
}

bool ReadBf16(const dom::element& e, uint16_t& out) {
  double d;
  if (!ReadDouble(e, d)) return false;
  out = DoubleToBf16(d);
  return !((out & 0x7FFF) == 0x7F80 && std::isfinite(d));
}

// Says why element `index` could not be converted (the slow path, taken once per failure).
Status ElementError(const Tensor& tensor, size_t index, const dom::element& e) {
  const std::string_view type_name = DataTypeName(tensor.dtype());
  std::string why;
  const bool is_number = e.is_number();
  switch (tensor.dtype()) {
    case DataType::kBool:
      why = fmt::format("expected true or false for BOOL, got {}", JsonTypeName(e));
      break;
    case DataType::kFp16:
    case DataType::kBf16:
    case DataType::kFp32:
    case DataType::kFp64:
      why = is_number
                ? fmt::format("value {} is out of range for {}", simdjson::minify(e), type_name)
                : fmt::format("expected a number for {}, got {}", type_name, JsonTypeName(e));
      break;
    case DataType::kBytes:
      why = fmt::format("expected a string for BYTES, got {}", JsonTypeName(e));
      break;
    default:
      if (e.is_int64() || e.is_uint64()) {
        why = fmt::format("value {} is out of range for {}", simdjson::minify(e), type_name);
      } else {
        why = fmt::format("expected an integer for {}, got {}{}", type_name, JsonTypeName(e),
                          is_number ? " " + simdjson::minify(e) : "");
      }
  }
  return InputError(tensor, fmt::format("element {}: {}", index, why));
}

template <typename T, bool (*kRead)(const dom::element&, T&)>
Status FillFixed(const std::vector<dom::array>& rows, Tensor& tensor) {
  std::byte* out =
      tensor.AllocateData(static_cast<size_t>(tensor.element_count()) * sizeof(T)).data();
  size_t index = 0;
  for (dom::array row : rows) {
    for (dom::element e : row) {
      T value;
      if (!kRead(e, value)) return ElementError(tensor, index, e);
      std::memcpy(out + index * sizeof(T), &value, sizeof(T));
      ++index;
    }
  }
  return Status::Ok();
}

Status FillBytes(const std::vector<dom::array>& rows, Tensor& tensor) {
  size_t total = 0;
  size_t index = 0;
  for (dom::array row : rows) {
    for (dom::element e : row) {
      std::string_view s;
      if (e.get_string().get(s) != SUCCESS) return ElementError(tensor, index, e);
      if (s.size() > std::numeric_limits<uint32_t>::max()) {
        return InputError(tensor, fmt::format("element {}: longer than 4 GiB", index));
      }
      total += 4 + s.size();
      ++index;
    }
  }
  std::byte* out = tensor.AllocateData(total).data();
  for (dom::array row : rows) {
    for (dom::element e : row) {
      const std::string_view s = e.get_string().value_unsafe();
      const auto len = static_cast<uint32_t>(s.size());
      std::memcpy(out, &len, 4);
      if (len != 0) std::memcpy(out + 4, s.data(), len);
      out += 4 + len;
    }
  }
  return Status::Ok();
}

}  // namespace

Status DecodeTensorJsonData(const dom::element& data, Tensor& tensor) {
  ASSIGN_OR_RETURN(const std::vector<dom::array> rows, Rows(tensor, data));
  switch (tensor.dtype()) {
    case DataType::kBool:
      return FillFixed<uint8_t, ReadBool>(rows, tensor);
    case DataType::kUint8:
      return FillFixed<uint8_t, ReadInteger<uint8_t>>(rows, tensor);
    case DataType::kUint16:
      return FillFixed<uint16_t, ReadInteger<uint16_t>>(rows, tensor);
    case DataType::kUint32:
      return FillFixed<uint32_t, ReadInteger<uint32_t>>(rows, tensor);
    case DataType::kUint64:
      return FillFixed<uint64_t, ReadInteger<uint64_t>>(rows, tensor);
    case DataType::kInt8:
      return FillFixed<int8_t, ReadInteger<int8_t>>(rows, tensor);
    case DataType::kInt16:
      return FillFixed<int16_t, ReadInteger<int16_t>>(rows, tensor);
    case DataType::kInt32:
      return FillFixed<int32_t, ReadInteger<int32_t>>(rows, tensor);
    case DataType::kInt64:
      return FillFixed<int64_t, ReadInteger<int64_t>>(rows, tensor);
    case DataType::kFp16:
      return FillFixed<uint16_t, ReadFp16>(rows, tensor);
    case DataType::kBf16:
      return FillFixed<uint16_t, ReadBf16>(rows, tensor);
    case DataType::kFp32:
      return FillFixed<float, ReadFp32>(rows, tensor);
    case DataType::kFp64:
      return FillFixed<double, ReadFp64>(rows, tensor);
    case DataType::kBytes:
      return FillBytes(rows, tensor);
    case DataType::kInvalid:
      break;
  }
  return InputError(tensor, "invalid datatype");
}

}  // namespace inferd::protocol
