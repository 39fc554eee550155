// Runs a batch of compatible payloads as one engine execution: concatenates their inputs along
// the batch dim, executes once, slices every output back per request (zero-copy: each slice
// borrows the batched output), completes each payload with its own response and records
// statistics. A batch of one runs without copying. Called by schedulers' worker threads.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include <absl/functional/function_ref.h>

#include "backends/backend.h"
#include "scheduling/padding.h"
#include "scheduling/scheduler.h"

namespace inferd::scheduling {

struct BatchOutcome {
  SteadyClock::duration engine_time{};  // time inside ModelInstance::Execute
  int64_t rows = 0;
};

// Executes `batch` (non-empty; its payloads BatchCompatible) on `instance` and completes every
// payload.
// `executed` is called once the engine is done and before any payload completes (a
// scheduler's accounting must not lag behind a client that answers at once); a FunctionRef,
// so that a caller's lambda costs no allocation.
// With `padding`, the padded inputs are padded to the bucket of the batch's length and the
// padded outputs cut back per request (padding.h).
BatchOutcome ExecuteBatch(backends::ModelInstance& instance,
                          std::span<std::unique_ptr<InferencePayload>> batch,
                          absl::FunctionRef<void(const BatchOutcome&)> executed =
                              [](const BatchOutcome&) {},
                          const PaddingSpec* padding = nullptr);

// Pure helpers, exposed for tests.
// Concatenates the same-named input of every payload along dim 0.
Result<std::vector<Tensor>> ConcatenateInputs(
    std::span<const std::unique_ptr<InferencePayload>> batch);
// The same for one input, `first` being the head payload's.
Result<Tensor> ConcatenateInput(std::span<const std::unique_ptr<InferencePayload>> batch,
                                const Tensor& first);
// Splits `output` (dim 0 = the sum of `rows`) into one tensor per entry of `rows`.
Result<std::vector<Tensor>> SplitOutput(const Tensor& output, std::span<const int64_t> rows);

}  // namespace inferd::scheduling
