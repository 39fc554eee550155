// Triton's `reshape`: a config input or output may give the engine a different shape from the
// one clients see (Triton's densenet_onnx: clients send [3,224,224], the model takes
// [1,3,224,224]; its [1,1000,1,1] output is answered as [1000]). WithReshape wraps an engine
// instance so that every caller — the schedulers and warm-up alike — sees only the config's
// `dims`, and the engine only its `reshape`. The bytes are shared, never copied. Called by the
// repository when it builds a model version's instances; not thread-safe (as ModelInstance).
#pragma once

#include <memory>

#include "backends/backend.h"

namespace inferd::backends {

// `instance` itself when no input or output of `config` (a completed config) has a reshape.
std::unique_ptr<ModelInstance> WithReshape(const config::ModelConfig& config,
                                           std::unique_ptr<ModelInstance> instance);

// The shape the engine gets for a request tensor of `shape` whose config has `dims` and
// `reshape`; `batched` when dim 0 of `shape` is the batch dim. Variable (-1) reshape dims take
// the request's variable dims in order, or the one count the element count leaves.
Shape ReshapeForEngine(const Shape& shape, std::span<const int64_t> dims,
                       std::span<const int64_t> reshape, bool batched);

}  // namespace inferd::backends
