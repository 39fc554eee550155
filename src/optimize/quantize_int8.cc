#include "optimize/quantize_int8.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "optimize/onnx_model.h"

namespace inferd::optimize {
namespace {

onnx::NodeProto MakeNode(const std::string& op, const std::vector<std::string>& inputs,
                         const std::vector<std::string>& outputs, const std::string& name) {
  onnx::NodeProto node;
  node.set_op_type(op);
  node.set_name(name);
  for (const auto& i : inputs) node.add_input(i);
  for (const auto& o : outputs) node.add_output(o);
  return node;
}

float FloatAttribute(const onnx::NodeProto& node, const std::string& name, float fallback) {
  for (const auto& a : node.attribute()) {
    if (a.name() == name) return a.f();
  }
  return fallback;
}

int64_t IntAttribute(const onnx::NodeProto& node, const std::string& name, int64_t fallback) {
  for (const auto& a : node.attribute()) {
    if (a.name() == name) return a.i();
  }
  return fallback;
}

// A quantizable node's weight as [K, N] (a Gemm's transB undone) plus its output scaling.
struct DenseWeight {
  int64_t k = 0, n = 0;
  std::vector<float> w;  // row-major [K, N]
  float alpha = 1;
  std::vector<float> bias;  // beta * C, empty when none
  std::vector<int64_t> bias_dims;
};

// The node's weight when it is a quantizable MatMul/Gemm; nullopt (with a reason) otherwise.
Result<DenseWeight> ReadDenseWeight(onnx::GraphProto& graph, const onnx::NodeProto& node) {
  if (node.input_size() < 2) return InvalidArgument("too few inputs");
  const onnx::TensorProto* weight = FindInitializer(graph, node.input(1));
  if (weight == nullptr || weight->dims_size() != 2 ||
      weight->data_type() != onnx::TensorProto::FLOAT) {
    return InvalidArgument("weight is not a constant 2-D FLOAT initializer");
  }
  DenseWeight d;
  ASSIGN_OR_RETURN(std::vector<float> w, FloatValues(*weight));
  const bool gemm = node.op_type() == "Gemm";
  const bool trans_b = gemm && IntAttribute(node, "transB", 0) != 0;
  if (gemm && IntAttribute(node, "transA", 0) != 0) return InvalidArgument("Gemm with transA");
  d.k = weight->dims(trans_b ? 1 : 0);
  d.n = weight->dims(trans_b ? 0 : 1);
  if (trans_b) {
    d.w.resize(w.size());
    for (int64_t r = 0; r < d.n; ++r) {
      for (int64_t c = 0; c < d.k; ++c) d.w[c * d.n + r] = w[r * d.k + c];
    }
  } else {
    d.w = std::move(w);
  }
  if (gemm) {
    d.alpha = FloatAttribute(node, "alpha", 1.0f);
    if (node.input_size() > 2 && !node.input(2).empty()) {
      const onnx::TensorProto* c = FindInitializer(graph, node.input(2));
      if (c == nullptr) return InvalidArgument("Gemm bias C is not a constant");
      ASSIGN_OR_RETURN(d.bias, FloatValues(*c));
      const float beta = FloatAttribute(node, "beta", 1.0f);
      for (float& b : d.bias) b *= beta;
      d.bias_dims.assign(c->dims().begin(), c->dims().end());
    }
  }
  return d;
}

// The int8 form of dense weight `d` as initializers named after `base`: the weights
// (`base`_W), their zero points (`base`_Wzero, all 0: symmetric) and the output scale per
// channel (`base`_Wscale, the weight's scale times the node's alpha).
void AddQuantizedWeight(const DenseWeight& d, const std::string& base,
                        std::vector<onnx::TensorProto>& initializers) {
  // Per output channel n: scale = max |W[:, n]| / 127, symmetric.
  std::vector<float> scale(d.n, 0.0f);
  for (int64_t r = 0; r < d.k; ++r) {
    for (int64_t c = 0; c < d.n; ++c) scale[c] = std::max(scale[c], std::fabs(d.w[r * d.n + c]));
  }
  for (float& s : scale) s = s > 0 ? s / 127.0f : 1.0f;
  std::string q(d.w.size(), '\0');
  for (int64_t r = 0; r < d.k; ++r) {
    for (int64_t c = 0; c < d.n; ++c) {
      const float v = std::nearbyint(d.w[r * d.n + c] / scale[c]);
      q[r * d.n + c] = static_cast<char>(static_cast<int8_t>(std::clamp(v, -127.0f, 127.0f)));
    }
  }
  onnx::TensorProto wq;
  wq.set_name(base + "_W");
  wq.set_data_type(onnx::TensorProto::INT8);
  wq.add_dims(d.k);
  wq.add_dims(d.n);
  wq.set_raw_data(q);
  onnx::TensorProto wzp;
  wzp.set_name(base + "_Wzero");
  wzp.set_data_type(onnx::TensorProto::INT8);
  wzp.add_dims(d.n);
  wzp.set_raw_data(std::string(d.n, '\0'));
  for (float& s : scale) s *= d.alpha;
  initializers.push_back(std::move(wq));
  initializers.push_back(std::move(wzp));
  initializers.push_back(MakeFloatTensor(base + "_Wscale", {d.n}, scale));
}

}  // namespace

Result<TransformResult> QuantizeDynamicInt8(onnx::ModelProto model) {
  if (OnnxOpset(model) < 11) {
    return Unimplemented(fmt::format(
        "int8: the model's opset {} is below 11 (DynamicQuantizeLinear)", OnnxOpset(model)));
  }
  onnx::GraphProto& graph = *model.mutable_graph();
  std::vector<onnx::NodeProto> rewritten;
  std::map<std::string, std::array<std::string, 3>> quantized_inputs;  // X -> (Xq, Xs, Xzp)
  int dense = 0, done = 0;
  std::vector<onnx::TensorProto> new_initializers;
  for (const onnx::NodeProto& node : graph.node()) {
    if (node.op_type() != "MatMul" && node.op_type() != "Gemm") {
      rewritten.push_back(node);
      continue;
    }
    ++dense;
    auto weight = ReadDenseWeight(graph, node);
    if (!weight.ok()) {
      rewritten.push_back(node);
      continue;
    }
    ++done;
    const DenseWeight& d = *weight;
    const std::string base =
        UniqueName(graph, (node.name().empty() ? node.output(0) : node.name()) + "_int8");
    AddQuantizedWeight(d, base, new_initializers);

    const std::string& x = node.input(0);
    auto [it, fresh] = quantized_inputs.try_emplace(x);
    if (fresh) {
      it->second = {base + "_Xq", base + "_Xscale", base + "_Xzero"};
      rewritten.push_back(MakeNode("DynamicQuantizeLinear", {x},
                                   {it->second[0], it->second[1], it->second[2]}, base + "_dql"));
    }
    const auto& xq = it->second;
    rewritten.push_back(MakeNode("MatMulInteger", {xq[0], base + "_W", xq[2], base + "_Wzero"},
                                 {base + "_Yint"}, base + "_mmi"));
    onnx::NodeProto cast = MakeNode("Cast", {base + "_Yint"}, {base + "_Yf"}, base + "_cast");
    auto* to = cast.add_attribute();
    to->set_name("to");
    to->set_type(onnx::AttributeProto::INT);
    to->set_i(onnx::TensorProto::FLOAT);
    rewritten.push_back(std::move(cast));
    rewritten.push_back(MakeNode("Mul", {xq[1], base + "_Wscale"}, {base + "_S"}, base + "_scale"));
    if (d.bias.empty()) {
      rewritten.push_back(
          MakeNode("Mul", {base + "_Yf", base + "_S"}, {node.output(0)}, base + "_out"));
    } else {
      rewritten.push_back(
          MakeNode("Mul", {base + "_Yf", base + "_S"}, {base + "_Ynb"}, base + "_out"));
      new_initializers.push_back(MakeFloatTensor(base + "_bias", d.bias_dims, d.bias));
      rewritten.push_back(
          MakeNode("Add", {base + "_Ynb", base + "_bias"}, {node.output(0)}, base + "_bias_add"));
    }
  }
  if (done == 0) {
    return Unimplemented(dense == 0 ? "int8: the model has no MatMul or Gemm node to quantize"
                                    : fmt::format("int8: none of the {} MatMul/Gemm nodes has a "
                                                  "constant 2-D FLOAT weight",
                                                  dense));
  }
  graph.clear_node();
  for (auto& n : rewritten) *graph.add_node() = std::move(n);
  for (auto& t : new_initializers) *graph.add_initializer() = std::move(t);
  RemoveUnreadInitializers(graph);  // the float weights
  DropValueInfo(model);
  return TransformResult{std::move(model),
                         fmt::format("{} of {} MatMul/Gemm weights int8 per channel", done, dense)};
}

}  // namespace inferd::optimize
