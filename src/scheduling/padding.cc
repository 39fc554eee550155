#include "scheduling/padding.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "config/proto_data_type.h"
#include "protocol/half.h"
#include "scheduling/batch_executor.h"
#include "scheduling/scheduler.h"

namespace inferd::scheduling {
namespace {

// The one -1 among `dims` (config dims, without the batch dimension).
size_t LengthAxis(const google::protobuf::RepeatedField<int64_t>& dims) {
  for (int i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) return static_cast<size_t>(i) + 1;
  }
  return 1;  // unreachable for a validated config
}

template <typename T>
void Store(std::byte* out, T value) {
  std::memcpy(out, &value, sizeof(T));
}

// `value` as one element of `dtype`, in `out` (DataTypeByteSize(dtype) bytes).
void EncodePadValue(DataType dtype, double value, std::byte* out) {
  switch (dtype) {
    case DataType::kUint8: return Store(out, static_cast<uint8_t>(value));
    case DataType::kUint16: return Store(out, static_cast<uint16_t>(value));
    case DataType::kUint32: return Store(out, static_cast<uint32_t>(value));
    case DataType::kUint64: return Store(out, static_cast<uint64_t>(value));
    case DataType::kInt8: return Store(out, static_cast<int8_t>(value));
    case DataType::kInt16: return Store(out, static_cast<int16_t>(value));
    case DataType::kInt32: return Store(out, static_cast<int32_t>(value));
    case DataType::kInt64: return Store(out, static_cast<int64_t>(value));
    case DataType::kFp16: return Store(out, protocol::DoubleToHalf(value));
    case DataType::kBf16: return Store(out, protocol::DoubleToBf16(value));
    case DataType::kFp32: return Store(out, static_cast<float>(value));
    case DataType::kFp64: return Store(out, value);
    default: std::memset(out, 0, DataTypeByteSize(dtype));  // not padded (validated)
  }
}

const Tensor* FindTensor(const InferenceRequest& request, std::string_view name) {
  for (const Tensor& t : request.inputs) {
    if (t.name() == name) return &t;
  }
  return nullptr;
}

// Products of the dimensions before and after `axis`.
std::pair<int64_t, int64_t> OuterInner(const Shape& shape, size_t axis) {
  int64_t outer = 1;
  int64_t inner = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < axis) outer *= shape[i];
    if (i > axis) inner *= shape[i];
  }
  return {outer, inner};
}

Result<Tensor> PadAndConcatenate(const PaddingSpec::Input& spec,
                                 std::span<const std::unique_ptr<InferencePayload>> batch,
                                 int64_t padded_length) {
  const Tensor* first = FindTensor(batch.front()->request, spec.name);
  if (first == nullptr || first->shape().size() <= spec.axis) {
    return Internal(fmt::format("padded input '{}' is missing or has no length dimension",
                                spec.name));
  }
  const size_t element = DataTypeByteSize(first->dtype());
  std::vector<std::byte> pad(element);
  EncodePadValue(first->dtype(), spec.pad_value, pad.data());

  Shape shape = first->shape();
  shape[0] = 0;
  shape[spec.axis] = padded_length;
  std::vector<const Tensor*> parts;
  parts.reserve(batch.size());
  for (const auto& p : batch) {
    const Tensor* t = FindTensor(p->request, spec.name);
    if (t == nullptr || t->dtype() != first->dtype() ||
        t->shape().size() != first->shape().size() || t->shape()[spec.axis] > padded_length) {
      return Internal(fmt::format("padded input '{}' differs across a batch", spec.name));
    }
    parts.push_back(t);
    shape[0] += t->shape()[0];
  }
  Tensor joined(spec.name, first->dtype(), shape);
  std::byte* dst = joined.AllocateData(static_cast<size_t>(ElementCount(shape)) * element).data();
  for (const Tensor* t : parts) {
    const auto [outer, inner] = OuterInner(t->shape(), spec.axis);
    const int64_t length = t->shape()[spec.axis];
    const size_t kept = static_cast<size_t>(length * inner) * element;
    const int64_t padding = (padded_length - length) * inner;
    const std::byte* src = t->data().data();
    for (int64_t o = 0; o < outer; ++o) {
      if (kept > 0) std::memcpy(dst, src, kept);
      src += kept;
      dst += kept;
      for (int64_t i = 0; i < padding; ++i, dst += element) std::memcpy(dst, pad.data(), element);
    }
  }
  return joined;
}

Tensor Lengths(const PaddingSpec& spec, std::span<const std::unique_ptr<InferencePayload>> batch) {
  int64_t rows = 0;
  for (const auto& p : batch) rows += p->batch_size;
  Tensor lengths(spec.lengths_input, spec.lengths_dtype, {rows});
  const size_t element = DataTypeByteSize(spec.lengths_dtype);
  std::byte* dst = lengths.AllocateData(static_cast<size_t>(rows) * element).data();
  for (const auto& p : batch) {
    for (int64_t r = 0; r < p->batch_size; ++r, dst += element) {
      if (spec.lengths_dtype == DataType::kInt32) {
        Store(dst, static_cast<int32_t>(p->length));
      } else {
        Store(dst, p->length);
      }
    }
  }
  return lengths;
}

}  // namespace

const PaddingSpec::Input* PaddingSpec::FindInput(std::string_view name) const {
  for (const Input& in : inputs) {
    if (in.name == name) return &in;
  }
  return nullptr;
}

const PaddingSpec::Output* PaddingSpec::FindOutput(std::string_view name) const {
  for (const Output& out : outputs) {
    if (out.name == name) return &out;
  }
  return nullptr;
}

std::shared_ptr<const PaddingSpec> PaddingSpecFromConfig(const config::ModelConfig& config) {
  if (!config.has_dynamic_batching() || !config.dynamic_batching().has_padding()) return nullptr;
  const config::ModelPaddedBatching& padding = config.dynamic_batching().padding();
  auto spec = std::make_shared<PaddingSpec>();
  for (const auto& padded : padding.input()) {
    for (const auto& in : config.input()) {
      if (in.name() == padded.name()) {
        spec->inputs.push_back({padded.name(), padded.pad_value(), LengthAxis(in.dims())});
      }
    }
  }
  spec->buckets.assign(padding.length_buckets().begin(), padding.length_buckets().end());
  spec->lengths_input = padding.lengths_input();
  if (padding.lengths_data_type() == config::TYPE_INT32) spec->lengths_dtype = DataType::kInt32;
  for (const auto& name : padding.output()) {
    for (const auto& out : config.output()) {
      if (out.name() == name) spec->outputs.push_back({name, LengthAxis(out.dims())});
    }
  }
  return spec;
}

Result<int64_t> RequestLength(const PaddingSpec& spec, const InferenceRequest& request) {
  if (!spec.lengths_input.empty() && FindTensor(request, spec.lengths_input) != nullptr) {
    return InvalidArgument(fmt::format(
        "input '{}' is fed by the server (the true lengths of padded batching); do not send it",
        spec.lengths_input));
  }
  int64_t length = -1;
  const std::string* first = nullptr;
  for (const PaddingSpec::Input& in : spec.inputs) {
    const Tensor* t = FindTensor(request, in.name);
    if (t == nullptr) continue;  // an optional input left out
    if (t->shape().size() <= in.axis) {
      return InvalidArgument(
          fmt::format("input '{}' has shape {}; it needs a length dimension {}", in.name,
                      ShapeToString(t->shape()), in.axis));
    }
    const int64_t l = t->shape()[in.axis];
    if (first != nullptr && l != length) {
      return InvalidArgument(fmt::format(
          "padded inputs '{}' (length {}) and '{}' (length {}) must have the same length",
          *first, length, in.name, l));
    }
    first = &in.name;
    length = l;
  }
  return std::max<int64_t>(length, 0);
}

int64_t PaddedLength(const PaddingSpec& spec, int64_t length) {
  auto it = std::lower_bound(spec.buckets.begin(), spec.buckets.end(), length);
  return it == spec.buckets.end() ? length : *it;
}

Result<std::vector<Tensor>> PadAndConcatenateInputs(
    const PaddingSpec& spec, std::span<const std::unique_ptr<InferencePayload>> batch,
    int64_t padded_length) {
  std::vector<Tensor> out;
  out.reserve(batch.front()->request.inputs.size() + 1);
  for (const Tensor& first : batch.front()->request.inputs) {
    if (const PaddingSpec::Input* padded = spec.FindInput(first.name())) {
      ASSIGN_OR_RETURN(Tensor joined, PadAndConcatenate(*padded, batch, padded_length));
      out.push_back(std::move(joined));
    } else if (batch.size() == 1) {
      out.push_back(first);  // shares the request's buffer
    } else {
      ASSIGN_OR_RETURN(Tensor joined, ConcatenateInput(batch, first));
      out.push_back(std::move(joined));
    }
  }
  if (!spec.lengths_input.empty()) out.push_back(Lengths(spec, batch));
  return out;
}

Result<Tensor> TrimToLength(const Tensor& part, size_t axis, int64_t padded_length,
                            int64_t length) {
  if (part.shape().size() <= axis || part.shape()[axis] != padded_length) {
    return Internal(fmt::format(
        "output '{}' has shape {}; padded batching expects dimension {} to be the padded length "
        "{}",
        part.name(), ShapeToString(part.shape()), axis, padded_length));
  }
  if (length == padded_length) return part;
  Shape shape = part.shape();
  shape[axis] = length;
  const auto [outer, inner] = OuterInner(part.shape(), axis);
  const size_t element = DataTypeByteSize(part.dtype());
  const size_t kept = static_cast<size_t>(length * inner) * element;
  const size_t stride = static_cast<size_t>(padded_length * inner) * element;
  Tensor trimmed(part.name(), part.dtype(), std::move(shape));
  std::byte* dst = trimmed.AllocateData(kept * static_cast<size_t>(outer)).data();
  const std::byte* src = part.data().data();
  for (int64_t o = 0; o < outer; ++o, src += stride, dst += kept) {
    if (kept > 0) std::memcpy(dst, src, kept);
  }
  return trimmed;
}

}  // namespace inferd::scheduling
