// The request `inferd bench` sends over and over: its input tensors (zeros, seeded random
// values, or the inputs of a v2 request body read from a file) and their wire encodings for
// HTTP (v2 JSON, or the binary tensor extension). Built once per run, before any timing, so
// encoding never costs the load generator anything while it measures.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/inference_request.h"
#include "core/status.h"

namespace inferd::bench {

// An input as the model metadata describes it (GET /v2/models/{m}); -1 marks a variable dim.
struct InputSpec {
  std::string name;
  DataType dtype = DataType::kInvalid;
  Shape shape;
};

// The "inputs" of a model metadata document. INVALID_ARGUMENT when malformed.
Result<std::vector<InputSpec>> ParseModelInputs(std::string_view metadata_json);

enum class InputFill { kZero, kRandom };

// Tensors for `specs`: the first variable dim becomes `batch_size`, any other variable dim 1.
// kRandom fills floats uniformly in [0, 1), integers in [0, 100), BOOL at random and BYTES
// with 8-character strings, from std::mt19937_64(seed).
Result<std::vector<Tensor>> MakeInputs(const std::vector<InputSpec>& specs, int64_t batch_size,
                                       InputFill fill, uint64_t seed);

// Reads the "inputs" of a v2 inference request body (JSON "data" only) from a file.
Result<std::vector<Tensor>> LoadInputsFromFile(const std::string& path);

struct HttpBody {
  std::string body;
  std::optional<size_t> header_length;  // Inference-Header-Content-Length when binary
};

// A v2 infer request body. binary: every input as binary_data_size and every output requested
// binary ("binary_data_output": true); otherwise all tensors as JSON "data".
HttpBody EncodeHttpRequest(const std::vector<Tensor>& inputs, bool binary);

}  // namespace inferd::bench
