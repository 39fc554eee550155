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

// The On-Demand decoder's counterpart (tensor_json_data_ondemand.cc): converts `data`, the
// input's "data" value, into `tensor` and returns true only where DecodeTensorJsonData would
// succeed with the same bytes; false otherwise (the caller then falls back to the DOM decoder,
// which words the error). `depth` is the nesting depth of `data` itself and no array may be
// nested deeper than `max_depth`; `max_elements` bounds the element count allocated for before
// the values are read (a request cannot hold more values than it has bytes of text).
bool TryDecodeTensorJsonData(simdjson::ondemand::value data, int depth, int max_depth,
                             size_t max_elements, Tensor& tensor);

}  // namespace inferd::protocol
