// Int8 dynamic quantization of the constant weights of MatMul and Gemm nodes, per output channel,
// written as the graph ONNX Runtime's CPU provider runs fastest:
//
//   X -> DynamicQuantizeLinear -> (Xq, Xscale, Xzero)
//   MatMulInteger(Xq, Wq int8 [K,N], Xzero, Wzero int8[N]) -> Cast(FLOAT) -> Mul(Xscale*Wscale[N])
//   (+ Add(bias) for a Gemm's C)
//
// ORT fuses exactly this chain into DynamicQuantizeMatMul (an int8 GEMM in MLAS with the scales
// applied on the way out), whereas a DequantizeLinear on the weight in front of a float MatMul
// would dequantize the whole weight on every run (ORT keeps DequantizeLinear out of constant
// folding). Weights are symmetric (zero point 0), scales max|W[:,n]|/127.
#pragma once

#include "core/status.h"
#include "optimize/transform.h"

namespace inferd::optimize {

// UNIMPLEMENTED when the model has no MatMul/Gemm with a constant 2-D FLOAT weight, or its
// opset is below 11 (DynamicQuantizeLinear).
Result<TransformResult> QuantizeDynamicInt8(onnx::ModelProto model);

}  // namespace inferd::optimize
