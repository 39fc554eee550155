// The result every graph rewrite in src/optimize returns: the rewritten model plus one line for
// the report table (what was changed, e.g. "3 of 3 MatMul/Gemm weights"). Rewrites take the
// model by value and leave the caller's copy alone.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

namespace inferd::optimize {

struct TransformResult {
  onnx::ModelProto model;
  std::string note;  // a short human summary for the table's last column
};

}  // namespace inferd::optimize
