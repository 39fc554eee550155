// Reading the "data" arrays of float inputs (FP16, BF16, FP32, FP64) from their raw JSON text,
// for the On-Demand request decoder: the bulk of large JSON requests. Numbers are converted with
// a Clinger fast path or std::from_chars, both correctly rounded, so each value gets the double
// that simdjson's DOM parser gives it, then the DOM decoder's conversion to the datatype.
// Internal to the protocol module.
#pragma once

#include <string_view>

#include "core/tensor.h"

namespace inferd::protocol {

// `text` is the raw JSON of an input's "data" value (an array, possibly followed by whitespace)
// and `tensor` a float tensor with its name and shape set. Converts the values into the tensor
// and returns true only where DecodeTensorJsonData (tensor_json_data.h) would succeed with the
// same bytes; false otherwise: errors, and also valid spellings left to the DOM decoder (escaped
// strings, integers of more than 18 digits, numbers beyond the double range). `depth` is the
// nesting depth of the array itself; no array may be nested deeper than `max_depth`. At least 8
// readable bytes must follow `text` (simdjson's padding guarantees 64): digits are read 8 bytes
// at a time.
bool ScanFloatJsonArray(std::string_view text, int depth, int max_depth, Tensor& tensor);

// One float value, exposed for tests: a JSON number, or one of the strings "NaN", "Infinity",
// "-Infinity", from the first byte of `token` to its end (trailing whitespace allowed). True with
// the DOM parser's double; false as for ScanFloatJsonArray. The same padding rule applies.
bool ParseJsonFloatToken(std::string_view token, double& out);

}  // namespace inferd::protocol
