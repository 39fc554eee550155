// Tensor: a named, typed, shaped block of bytes, either owned or borrowed from a buffer that a
// shared owner keeps alive (e.g. an HTTP body, so binary inputs are never copied).
//
// Byte layout (the same as the KServe v2 binary tensor extension, so codecs can borrow):
//   fixed-size types: elements in row-major order, little endian;
//   BYTES: each element as a 4-byte little-endian length followed by that many bytes.
// Not thread-safe for mutation; const access from several threads is fine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/data_type.h"
#include "core/shape.h"
#include "core/status.h"

namespace inferd {

// Product of the dims; -1 if any dim is negative or the product overflows int64.
int64_t ElementCount(const Shape& shape);
// "[1,3,224,224]", for messages.
std::string ShapeToString(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;
  Tensor(std::string name, DataType dtype, Shape shape)
      : name_(std::move(name)), dtype_(dtype), shape_(std::move(shape)) {}

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  DataType dtype() const { return dtype_; }
  void set_dtype(DataType dtype) { dtype_ = dtype; }
  const Shape& shape() const { return shape_; }
  void set_shape(Shape shape) { shape_ = std::move(shape); }
  int64_t element_count() const { return ElementCount(shape_); }

  // Takes ownership of `bytes`.
  void SetData(std::vector<std::byte> bytes);
  // Borrows `bytes`; `owner` keeps the memory alive for as long as this tensor (or a copy) lives.
  void SetData(std::span<const std::byte> bytes, std::shared_ptr<const void> owner);
  // Allocates `byte_size` zeroed owned bytes and returns them for filling.
  std::span<std::byte> AllocateData(size_t byte_size);

  std::span<const std::byte> data() const { return {data_, size_}; }
  size_t byte_size() const { return size_; }

  // Typed view of the elements of a fixed-size type. The caller picks the right T, and must
  // know the bytes are aligned for T: owned data always is; data borrowed from a request body
  // (binary extension) often is not — memcpy those elements instead.
  template <typename T>
  std::span<const T> As() const {
    return {reinterpret_cast<const T*>(data_), size_ / sizeof(T)};
  }

  // Checks that the byte size matches dtype and shape (for BYTES: that the length prefixes
  // exactly cover the buffer and the element count matches the shape).
  Status ValidateByteSize() const;

 private:
  std::string name_;
  DataType dtype_ = DataType::kInvalid;
  Shape shape_;
  std::shared_ptr<const void> owner_;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

// Helpers for the BYTES layout.
// Splits a length-prefixed buffer into element views; error if the prefixes are inconsistent.
Result<std::vector<std::string_view>> SplitBytesElements(std::span<const std::byte> data);
// Appends one length-prefixed element to `out`.
void AppendBytesElement(std::vector<std::byte>& out, std::string_view element);

}  // namespace inferd
