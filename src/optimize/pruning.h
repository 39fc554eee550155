// Pruning of dense layers (MatMul/Gemm with a constant 2-D FLOAT weight):
// - magnitude pruning zeroes each weight's smallest-magnitude entries until it reaches the
//   target sparsity (same shapes; smaller only once compressed, faster only with sparse kernels);
// - structured pruning removes the weakest hidden units between two dense layers — the columns
//   of the first layer's weight and bias and the rows of the second's — so the model itself is
//   smaller: Dense(K→H) → activation → Dense(H→M) becomes Dense(K→H') → activation → Dense(H'→M).
//   A unit's strength is ‖W1[:,h]‖·‖W2[h,:]‖ (the weight through which it reaches the output).
#pragma once

#include "core/status.h"
#include "optimize/transform.h"

namespace inferd::optimize {

// `sparsity` in [0, 1): the share of each dense weight set to zero.
Result<TransformResult> MagnitudePrune(onnx::ModelProto model, double sparsity);

// `fraction` in [0, 1): the share of each hidden layer's units removed (at least one unit is
// kept). UNIMPLEMENTED when the graph has no Dense → activation → Dense chain it can shrink.
Result<TransformResult> StructuredPrune(onnx::ModelProto model, double fraction);

}  // namespace inferd::optimize
