// Padded, shape-bucketed batching (inferd's own; `dynamic_batching { padding { ... } }`, see
// docs/scheduling.md "Padded batching"). Variable-length requests batch together when their
// lengths fall in the same bucket: at execution every padded input is padded along its length
// dimension to the bucket with the configured pad value, the model optionally gets each row's
// true length as an extra input, and the outputs that follow the length are cut back per
// request. Pure functions over tensors; the batch queue and executor call them.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/model_config.h"
#include "core/inference_request.h"
#include "core/status.h"
#include "core/tensor.h"

namespace inferd::scheduling {

struct InferencePayload;

struct PaddingSpec {
  struct Input {
    std::string name;
    double pad_value = 0;
    size_t axis = 1;  // the length dimension, counting the batch dimension as 0
  };
  struct Output {
    std::string name;
    size_t axis = 1;
  };
  std::vector<Input> inputs;
  std::vector<int64_t> buckets;  // ascending
  std::string lengths_input;     // empty: the model does not take the lengths
  DataType lengths_dtype = DataType::kInt64;
  std::vector<Output> outputs;

  const Input* FindInput(std::string_view name) const;
  const Output* FindOutput(std::string_view name) const;
};

// The spec of a config with `dynamic_batching { padding {...} }` (validated), or nullptr.
std::shared_ptr<const PaddingSpec> PaddingSpecFromConfig(const config::ModelConfig& config);

// The request's length: the length dimension of its padded inputs, which must agree.
// INVALID_ARGUMENT naming the inputs otherwise, or when a request supplies the lengths input.
Result<int64_t> RequestLength(const PaddingSpec& spec, const InferenceRequest& request);

// The length a request of `length` is padded to: the smallest bucket that holds it, or its own
// length beyond the last bucket.
int64_t PaddedLength(const PaddingSpec& spec, int64_t length);

// Joins the inputs of `batch` (BatchCompatible) along the batch dimension, padding the padded
// inputs to `padded_length` (each payload's own length is InferencePayload::length), and
// appends the lengths input when the model takes one.
Result<std::vector<Tensor>> PadAndConcatenateInputs(
    const PaddingSpec& spec, std::span<const std::unique_ptr<InferencePayload>> batch,
    int64_t padded_length);

// `part` (one request's rows of a padded output) cut along `axis` from the padded length back
// to `length`. INTERNAL when the output's dimension is not the padded length.
Result<Tensor> TrimToLength(const Tensor& part, size_t axis, int64_t padded_length,
                            int64_t length);

}  // namespace inferd::scheduling
