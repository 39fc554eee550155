#include "core/tensor.h"

#include <fmt/format.h>

#include <cstring>
#include <limits>

namespace inferd {

int64_t ElementCount(const Shape& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return -1;
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim) return -1;
    count *= dim;
  }
  return count;
}

std::string ShapeToString(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ",")); }

void Tensor::SetData(std::vector<std::byte> bytes) {
  auto owned = std::make_shared<std::vector<std::byte>>(std::move(bytes));
  data_ = owned->data();
  size_ = owned->size();
  owner_ = std::move(owned);
}

void Tensor::SetData(std::span<const std::byte> bytes, std::shared_ptr<const void> owner) {
  data_ = bytes.data();
  size_ = bytes.size();
  owner_ = std::move(owner);
}

std::span<std::byte> Tensor::AllocateData(size_t byte_size) {
  // One allocation for the bytes and their reference count, as 8-byte words so that every
  // element type is aligned (value-initialised: zeroed).
  std::shared_ptr<uint64_t[]> owned = std::make_shared<uint64_t[]>((byte_size + 7) / 8);
  auto* bytes = reinterpret_cast<std::byte*>(owned.get());
  data_ = bytes;
  size_ = byte_size;
  owner_ = std::move(owned);
  return {bytes, byte_size};
}

Status Tensor::ValidateByteSize() const {
  const int64_t count = element_count();
  if (count < 0) {
    return InvalidArgument(
        fmt::format("tensor '{}' has an invalid shape {}", name_, ShapeToString(shape_)));
  }
  if (dtype_ == DataType::kBytes) {
    auto elements = SplitBytesElements(data());
    if (!elements.ok()) return elements.status().WithContext(fmt::format("tensor '{}'", name_));
    if (static_cast<int64_t>(elements->size()) != count) {
      return InvalidArgument(
          fmt::format("tensor '{}' holds {} BYTES elements but shape {} needs {}", name_,
                      elements->size(), ShapeToString(shape_), count));
    }
    return Status::Ok();
  }
  const size_t element_size = DataTypeByteSize(dtype_);
  if (element_size == 0) {
    return InvalidArgument(fmt::format("tensor '{}' has an invalid datatype", name_));
  }
  const auto expected = static_cast<uint64_t>(count) * element_size;
  if (expected / element_size != static_cast<uint64_t>(count) || expected != size_) {
    return InvalidArgument(
        fmt::format("tensor '{}' has {} bytes of data but shape {} of {} needs {}", name_, size_,
                    ShapeToString(shape_), DataTypeName(dtype_), expected));
  }
  return Status::Ok();
}

Result<std::vector<std::string_view>> SplitBytesElements(std::span<const std::byte> data) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < 4) {
      return InvalidArgument(fmt::format(
          "BYTES data is truncated: {} bytes left at offset {}, less than a 4-byte length",
          data.size() - pos, pos));
    }
    uint32_t len = 0;
    std::memcpy(&len, data.data() + pos, 4);  // little endian on every supported host
    pos += 4;
    if (len > data.size() - pos) {
      return InvalidArgument(
          fmt::format("BYTES element at offset {} claims {} bytes but only {} remain", pos - 4, len,
                      data.size() - pos));
    }
    out.emplace_back(reinterpret_cast<const char*>(data.data() + pos), len);
    pos += len;
  }
  return out;
}

void AppendBytesElement(std::vector<std::byte>& out, std::string_view element) {
  const auto len = static_cast<uint32_t>(element.size());
  const size_t at = out.size();
  out.resize(at + 4 + element.size());
  std::memcpy(out.data() + at, &len, 4);
  if (!element.empty()) std::memcpy(out.data() + at + 4, element.data(), element.size());
}

}  // namespace inferd
