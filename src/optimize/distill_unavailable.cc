// Distill when inferd is built without libtorch (INFERD_WITH_TORCH=OFF).
#include "optimize/distill.h"

namespace inferd::optimize {

Result<TransformResult> Distill(const onnx::ModelProto&, OrtEvaluator&, const EvalSet&,
                                const DistillOptions&) {
  return Unimplemented("distill: this inferd was built without libtorch (INFERD_WITH_TORCH=OFF)");
}

}  // namespace inferd::optimize
