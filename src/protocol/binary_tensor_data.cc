#include "protocol/binary_tensor_data.h"

#include <fmt/format.h>

#include <cstdint>
#include <span>

namespace inferd::protocol {

Status BorrowBinaryData(const std::shared_ptr<const std::string>& body, size_t size,
                        size_t* offset, Tensor& tensor) {
  const size_t left = body->size() - *offset;
  if (size > left) {
    return InvalidArgument(
        fmt::format("input '{}': binary_data_size {} exceeds the {} bytes of binary data left",
                    tensor.name(), size, left));
  }
  const auto* start = reinterpret_cast<const std::byte*>(body->data()) + *offset;
  tensor.SetData(std::span<const std::byte>(start, size), body);
  *offset += size;
  const auto count = static_cast<uint64_t>(tensor.element_count());
  if (tensor.dtype() == DataType::kBytes) {
    auto elements = SplitBytesElements(tensor.data());
    if (!elements.ok()) {
      return elements.status().WithContext(fmt::format("input '{}'", tensor.name()));
    }
    if (elements->size() != count) {
      return InvalidArgument(
          fmt::format("input '{}': binary data holds {} BYTES elements but shape {} needs {}",
                      tensor.name(), elements->size(), ShapeToString(tensor.shape()), count));
    }
    return Status::Ok();
  }
  const size_t element_size = DataTypeByteSize(tensor.dtype());
  if (count > left / element_size || count * element_size != size) {
    return InvalidArgument(fmt::format(
        "input '{}': binary_data_size {} does not match shape {} of {}, which needs {} bytes",
        tensor.name(), size, ShapeToString(tensor.shape()), DataTypeName(tensor.dtype()),
        count * element_size));
  }
  return Status::Ok();
}

}  // namespace inferd::protocol
