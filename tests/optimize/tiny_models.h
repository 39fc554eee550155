// Tiny ONNX models built in-test with the ONNX protobuf API, for the src/optimize tests.
#pragma once

#include <onnx/onnx_pb.h>

#include <random>
#include <string>
#include <vector>

#include "optimize/onnx_model.h"

namespace inferd::optimize::testing {

inline onnx::ValueInfoProto FloatInfo(const std::string& name, std::vector<int64_t> dims) {
  onnx::ValueInfoProto v;
  v.set_name(name);
  auto* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) {
    auto* dim = t->mutable_shape()->add_dim();
    if (d < 0) {
      dim->set_dim_param("batch");
    } else {
      dim->set_dim_value(d);
    }
  }
  return v;
}

inline onnx::NodeProto MakeNode(const std::string& op, std::vector<std::string> in,
                                std::string out) {
  onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(out + "_node");
  for (auto& i : in) n.add_input(i);
  n.add_output(out);
  return n;
}

inline std::vector<float> RandomValues(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

// x [batch, 4] -> MatMul W1 [4, hidden] -> Add b1 -> Relu -> Gemm(W2 [3, hidden], b2, transB)
// -> Softmax -> y [batch, 3]. Opset 13.
inline onnx::ModelProto TinyMlp(int64_t hidden = 8, uint32_t seed = 1) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto& g = *m.mutable_graph();
  g.set_name("tiny_mlp");
  *g.add_input() = FloatInfo("x", {-1, 4});
  *g.add_output() = FloatInfo("y", {-1, 3});
  *g.add_initializer() = MakeFloatTensor("W1", {4, hidden}, RandomValues(4 * hidden, seed));
  *g.add_initializer() = MakeFloatTensor("b1", {hidden}, RandomValues(hidden, seed + 1));
  *g.add_initializer() = MakeFloatTensor("W2", {3, hidden}, RandomValues(3 * hidden, seed + 2));
  *g.add_initializer() = MakeFloatTensor("b2", {3}, RandomValues(3, seed + 3));
  *g.add_node() = MakeNode("MatMul", {"x", "W1"}, "h0");
  *g.add_node() = MakeNode("Add", {"h0", "b1"}, "h1");
  *g.add_node() = MakeNode("Relu", {"h1"}, "h2");
  auto gemm = MakeNode("Gemm", {"h2", "W2", "b2"}, "logits");
  auto* a = gemm.add_attribute();
  a->set_name("transB");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(1);
  *g.add_node() = std::move(gemm);
  *g.add_node() = MakeNode("Softmax", {"logits"}, "y");
  return m;
}

// x [batch, 4] -> Relu -> y: no dense layer to rewrite.
inline onnx::ModelProto ReluOnly() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto& g = *m.mutable_graph();
  g.set_name("relu_only");
  *g.add_input() = FloatInfo("x", {-1, 4});
  *g.add_output() = FloatInfo("y", {-1, 4});
  *g.add_node() = MakeNode("Relu", {"x"}, "y");
  return m;
}

inline int CountOps(const onnx::ModelProto& m, const std::string& op) {
  int n = 0;
  for (const auto& node : m.graph().node()) n += node.op_type() == op;
  return n;
}

}  // namespace inferd::optimize::testing
