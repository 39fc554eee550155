// fp16 conversion: every FLOAT initializer, Constant and Cast-to-FLOAT becomes FLOAT16, and the
// graph keeps FLOAT inputs and outputs (a Cast at each edge), so clients and config.pbtxt are
// unchanged while the weights take half the bytes. ONNX Runtime's CPU provider runs the ops it
// has fp16 kernels for in fp16 and inserts casts around the others itself.
#pragma once

#include "core/status.h"
#include "optimize/transform.h"

namespace inferd::optimize {

// INVALID_ARGUMENT when an op does not accept FLOAT16 (shape inference names the node).
Result<TransformResult> ConvertToFloat16(onnx::ModelProto model);

}  // namespace inferd::optimize
