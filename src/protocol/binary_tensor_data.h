// The binary tensor data extension's input side, shared by the v2 JSON request decoders: an
// input with "parameters": {"binary_data_size": N} borrows the next N bytes of the body after
// the JSON header. Internal to the protocol module.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/status.h"
#include "core/tensor.h"

namespace inferd::protocol {

// Borrows body[*offset, *offset + size) for `tensor` (name, dtype and shape set) and advances
// *offset. The bytes stay owned by `body`. Checks that they fit what is left of the body and
// hold exactly the tensor's elements (for BYTES: the length-prefixed layout). Errors are
// INVALID_ARGUMENT and start with "input '<name>': ".
Status BorrowBinaryData(const std::shared_ptr<const std::string>& body, size_t size,
                        size_t* offset, Tensor& tensor);

}  // namespace inferd::protocol
