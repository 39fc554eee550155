// TryDecodeTensorJsonData: a v2 input's "data" array, read with simdjson On-Demand straight into
// the tensor. Mirrors tensor_json_data.cc (the DOM decoder, which owns the error messages): same
// flat/nested rule, same per-datatype conversions (integers and bools through the same simdjson
// number parser, floats by float_json_array.h), so every value it accepts converts to the same
// bits; anything else returns false.
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "protocol/float_json_array.h"
#include "protocol/tensor_json_data.h"

namespace inferd::protocol {
namespace {

namespace ondemand = simdjson::ondemand;
using simdjson::SUCCESS;

template <typename T>
bool ReadInteger(ondemand::value& e, T& out) {
  if constexpr (std::is_same_v<T, uint64_t>) {
    return e.get_uint64().get(out) == SUCCESS;
  } else {
    int64_t v;
    if (e.get_int64().get(v) != SUCCESS || !std::in_range<T>(v)) return false;
    out = static_cast<T>(v);
    return true;
  }
}

bool ReadBool(ondemand::value& e, uint8_t& out) {
  bool v;
  if (e.get_bool().get(v) != SUCCESS) return false;
  out = v ? 1 : 0;
  return true;
}

// Writes fixed-size elements into the tensor's buffer, allocated up front for `count` values.
template <typename T, bool (*kRead)(ondemand::value&, T&)>
class FixedSink {
 public:
  FixedSink(Tensor& tensor, size_t count)
      : out_(tensor.AllocateData(count * sizeof(T)).data()), count_(count) {}

  bool Add(ondemand::value& e) {
    T value;
    if (index_ == count_ || !kRead(e, value)) return false;
    std::memcpy(out_ + index_ * sizeof(T), &value, sizeof(T));
    ++index_;
    return true;
  }
  bool Finish() const { return index_ == count_; }

 private:
  std::byte* out_;
  size_t count_;
  size_t index_ = 0;
};

// Collects the strings (views into the parser's string buffer, valid for this document), then
// lays them out length-prefixed.
class BytesSink {
 public:
  BytesSink(Tensor& tensor, size_t count) : tensor_(tensor), count_(count) {
    elements_.reserve(count);
  }

  bool Add(ondemand::value& e) {
    std::string_view s;
    if (elements_.size() == count_ || e.get_string().get(s) != SUCCESS ||
        s.size() > std::numeric_limits<uint32_t>::max()) {
      return false;
    }
    elements_.push_back(s);
    return true;
  }
  bool Finish() {
    if (elements_.size() != count_) return false;
    size_t total = 0;
    for (std::string_view s : elements_) total += 4 + s.size();
    std::byte* out = tensor_.AllocateData(total).data();
    for (std::string_view s : elements_) {
      const auto len = static_cast<uint32_t>(s.size());
      std::memcpy(out, &len, 4);
      if (len != 0) std::memcpy(out + 4, s.data(), len);
      out += 4 + len;
    }
    return true;
  }

 private:
  Tensor& tensor_;
  size_t count_;
  std::vector<std::string_view> elements_;
};

// The flat/nested rule of tensor_json_data.cc: data is nested when its first element is an
// array; nested data must then be rectangular and exactly as deep as the shape.
template <typename Sink>
class DataWalker {
 public:
  DataWalker(const Shape& shape, int max_depth, Sink& sink)
      : shape_(shape), max_depth_(max_depth), sink_(sink) {}

  bool Top(ondemand::array top, int depth) {
    if (depth > max_depth_) return false;
    bool nested = false;
    size_t n = 0;
    for (auto element : top) {
      ondemand::value e;
      if (element.get(e) != SUCCESS) return false;
      if (n == 0) {
        ondemand::json_type type;
        if (e.type().get(type) != SUCCESS) return false;
        nested = type == ondemand::json_type::array;
        if (nested && shape_.empty()) return false;
      }
      ++n;
      if (!nested) {
        if (!sink_.Add(e)) return false;
      } else if (!Child(e, 0, n, depth)) {
        return false;
      }
    }
    if (nested && n != static_cast<size_t>(shape_[0])) return false;
    return sink_.Finish();
  }

 private:
  // The n-th (1-based) element `e` of an array at dimension `dim`, whose rows are arrays.
  bool Child(ondemand::value& e, size_t dim, size_t n, int depth) {
    if (n > static_cast<size_t>(shape_[dim]) || dim + 1 == shape_.size()) return false;
    ondemand::array child;
    if (e.get_array().get(child) != SUCCESS) return false;
    return Nested(child, dim + 1, depth + 1);
  }

  bool Nested(ondemand::array array, size_t dim, int depth) {
    if (depth > max_depth_) return false;
    const bool innermost = dim + 1 == shape_.size();
    size_t n = 0;
    for (auto element : array) {
      ondemand::value e;
      if (element.get(e) != SUCCESS) return false;
      ++n;
      if (innermost) {
        if (n > static_cast<size_t>(shape_[dim]) || !sink_.Add(e)) return false;
      } else if (!Child(e, dim, n, depth)) {
        return false;
      }
    }
    return n == static_cast<size_t>(shape_[dim]);
  }

  const Shape& shape_;
  int max_depth_;
  Sink& sink_;
};

bool IsFloat(DataType dtype) {
  return dtype == DataType::kFp16 || dtype == DataType::kBf16 || dtype == DataType::kFp32 ||
         dtype == DataType::kFp64;
}

template <typename Sink>
bool Walk(ondemand::value data, int depth, int max_depth, Tensor& tensor, size_t count) {
  ondemand::array top;
  if (data.get_array().get(top) != SUCCESS) return false;
  Sink sink(tensor, count);
  return DataWalker<Sink>(tensor.shape(), max_depth, sink).Top(top, depth);
}

template <typename T, bool (*kRead)(ondemand::value&, T&)>
bool WalkFixed(ondemand::value data, int depth, int max_depth, Tensor& tensor, size_t count) {
  return Walk<FixedSink<T, kRead>>(data, depth, max_depth, tensor, count);
}

}  // namespace

bool TryDecodeTensorJsonData(ondemand::value data, int depth, int max_depth, size_t max_elements,
                             Tensor& tensor) {
  const auto count = static_cast<size_t>(tensor.element_count());
  if (count > max_elements) return false;
  if (IsFloat(tensor.dtype())) {
    // Float data, the bulk of large JSON requests, is scanned in its raw text: On-Demand's
    // per-value calls cost more than the conversions.
    ondemand::array array;
    std::string_view text;
    return data.get_array().get(array) == SUCCESS && array.raw_json().get(text) == SUCCESS &&
           ScanFloatJsonArray(text, depth, max_depth, tensor);
  }
  switch (tensor.dtype()) {
    case DataType::kBool:
      return WalkFixed<uint8_t, ReadBool>(data, depth, max_depth, tensor, count);
    case DataType::kUint8:
      return WalkFixed<uint8_t, ReadInteger<uint8_t>>(data, depth, max_depth, tensor, count);
    case DataType::kUint16:
      return WalkFixed<uint16_t, ReadInteger<uint16_t>>(data, depth, max_depth, tensor, count);
    case DataType::kUint32:
      return WalkFixed<uint32_t, ReadInteger<uint32_t>>(data, depth, max_depth, tensor, count);
    case DataType::kUint64:
      return WalkFixed<uint64_t, ReadInteger<uint64_t>>(data, depth, max_depth, tensor, count);
    case DataType::kInt8:
      return WalkFixed<int8_t, ReadInteger<int8_t>>(data, depth, max_depth, tensor, count);
    case DataType::kInt16:
      return WalkFixed<int16_t, ReadInteger<int16_t>>(data, depth, max_depth, tensor, count);
    case DataType::kInt32:
      return WalkFixed<int32_t, ReadInteger<int32_t>>(data, depth, max_depth, tensor, count);
    case DataType::kInt64:
      return WalkFixed<int64_t, ReadInteger<int64_t>>(data, depth, max_depth, tensor, count);
    case DataType::kBytes:
      return Walk<BytesSink>(data, depth, max_depth, tensor, count);
    default:
      break;
  }
  return false;
}

}  // namespace inferd::protocol
