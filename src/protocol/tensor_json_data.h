// Decoding of a v2 input's JSON "data" array into a Tensor's bytes, for the v2 JSON request
// decoder. Values are converted straight into the tensor's owned buffer in the core::Tensor
// layout; no intermediate arrays. Internal to the protocol module.
#pragma once

#include <simdjson.h>

#include "core/status.h"
#include "core/tensor.h"

namespace inferd::protocol {

// `tensor` has its name, dtype and shape set; `data` is the input's "data" value: a flat array
// of element_count() values, or arrays nested exactly as the shape. On success the tensor owns
// its bytes. Errors are INVALID_ARGUMENT and start with "input '<name>': ".
Status DecodeTensorJsonData(const simdjson::dom::element& data, Tensor& tensor);

}  // namespace inferd::protocol
