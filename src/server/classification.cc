#include "server/classification.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <numeric>

namespace inferd::server {
namespace {

template <typename T>
double Load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // output buffers may be slices: no alignment assumed
  return static_cast<double>(v);
}

Result<double (*)(const std::byte*)> ScoreReader(DataType t) {
  switch (t) {
    case DataType::kFp32:
      return &Load<float>;
    case DataType::kFp64:
      return &Load<double>;
    case DataType::kInt8:
      return &Load<int8_t>;
    case DataType::kInt16:
      return &Load<int16_t>;
    case DataType::kInt32:
      return &Load<int32_t>;
    case DataType::kInt64:
      return &Load<int64_t>;
    case DataType::kUint8:
      return &Load<uint8_t>;
    case DataType::kUint16:
      return &Load<uint16_t>;
    case DataType::kUint32:
      return &Load<uint32_t>;
    case DataType::kUint64:
      return &Load<uint64_t>;
    default:
      return InvalidArgument(
          fmt::format("classification needs numeric scores, not {}", DataTypeName(t)));
  }
}

}  // namespace

Result<std::map<std::string, int64_t>> RequestedClassifications(const InferenceRequest& request) {
  std::map<std::string, int64_t> out;
  for (const auto& o : request.outputs) {
    auto it = o.parameters.find("classification");
    if (it == o.parameters.end()) continue;
    const int64_t* k = std::get_if<int64_t>(&it->second);
    if (k == nullptr || *k < 1) {
      return InvalidArgument(fmt::format(
          "output '{}': parameter 'classification' must be a positive integer", o.name));
    }
    out[o.name] = *k;
  }
  return out;
}

Result<Tensor> ClassifyOutput(const Tensor& scores, int64_t k, bool batched,
                              const std::vector<std::string>* labels) {
  ASSIGN_OR_RETURN(auto read, ScoreReader(scores.dtype()));
  const Shape& shape = scores.shape();
  const int64_t rows = batched ? (shape.empty() ? 0 : shape[0]) : 1;
  const int64_t count = scores.element_count();
  if (rows <= 0 || count <= 0 || count % rows != 0) {
    return InvalidArgument(fmt::format("output '{}' of shape {} cannot be classified",
                                       scores.name(), ShapeToString(shape)));
  }
  const int64_t classes = count / rows;
  const int64_t top = std::min(k, classes);
  const size_t size = DataTypeByteSize(scores.dtype());
  std::vector<std::byte> out;
  std::vector<int64_t> order(static_cast<size_t>(classes));
  std::vector<double> values(static_cast<size_t>(classes));
  for (int64_t r = 0; r < rows; ++r) {
    const std::byte* row = scores.data().data() + static_cast<size_t>(r * classes) * size;
    for (int64_t c = 0; c < classes; ++c) values[c] = read(row + static_cast<size_t>(c) * size);
    std::iota(order.begin(), order.end(), 0);
    // Highest first; ties keep the lower class index first.
    std::partial_sort(order.begin(), order.begin() + top, order.end(), [&](int64_t a, int64_t b) {
      return values[a] > values[b] || (values[a] == values[b] && a < b);
    });
    for (int64_t i = 0; i < top; ++i) {
      const int64_t c = order[i];
      std::string element = fmt::format("{:f}:{}", values[c], c);
      if (labels != nullptr && c < static_cast<int64_t>(labels->size())) {
        element += ":";
        element += (*labels)[c];
      }
      AppendBytesElement(out, element);
    }
  }
  Shape out_shape = batched ? Shape{rows, top} : Shape{top};
  Tensor result(scores.name(), DataType::kBytes, std::move(out_shape));
  result.SetData(std::move(out));
  return result;
}

Status ApplyClassifications(const std::map<std::string, int64_t>& requested, bool batched,
                            const OutputLabels& labels, InferenceResponse& response) {
  for (Tensor& out : response.outputs) {
    auto it = requested.find(out.name());
    if (it == requested.end()) continue;
    auto l = labels.find(out.name());
    ASSIGN_OR_RETURN(
        out, ClassifyOutput(out, it->second, batched, l == labels.end() ? nullptr : &l->second));
  }
  return Status::Ok();
}

}  // namespace inferd::server
