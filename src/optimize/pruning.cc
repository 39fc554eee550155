#include "optimize/pruning.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "optimize/onnx_model.h"

namespace inferd::optimize {
namespace {

int64_t IntAttribute(const onnx::NodeProto& node, const std::string& name, int64_t fallback) {
  for (const auto& a : node.attribute()) {
    if (a.name() == name) return a.i();
  }
  return fallback;
}

// A dense node's constant weight seen as a logical [in, out] matrix (a Gemm's transB undone).
struct DenseView {
  onnx::TensorProto* tensor = nullptr;
  bool transposed = false;  // stored [out, in]
  int64_t in = 0, out = 0;
  std::vector<float> values;  // as stored
  float at(int64_t i, int64_t o) const {
    return transposed ? values[o * in + i] : values[i * out + o];
  }
};

// The dense view of `node` when it is a MatMul/Gemm (no transA) with a constant 2-D FLOAT
// weight read by this node only.
std::optional<DenseView> ViewDense(onnx::GraphProto& graph, const onnx::NodeProto& node) {
  if ((node.op_type() != "MatMul" && node.op_type() != "Gemm") || node.input_size() < 2) {
    return std::nullopt;
  }
  if (node.op_type() == "Gemm" && IntAttribute(node, "transA", 0) != 0) return std::nullopt;
  onnx::TensorProto* w = FindInitializer(graph, node.input(1));
  if (w == nullptr || w->dims_size() != 2 || w->data_type() != onnx::TensorProto::FLOAT ||
      CountReaders(graph, w->name()) != 1) {
    return std::nullopt;
  }
  auto values = FloatValues(*w);
  if (!values.ok()) return std::nullopt;
  DenseView v;
  v.tensor = w;
  v.transposed = node.op_type() == "Gemm" && IntAttribute(node, "transB", 0) != 0;
  v.in = w->dims(v.transposed ? 1 : 0);
  v.out = w->dims(v.transposed ? 0 : 1);
  v.values = std::move(values).value();
  return v;
}

// Writes back the view's matrix restricted to rows `ins` and columns `outs` (logical indices).
void Shrink(DenseView& v, const std::vector<int64_t>& ins, const std::vector<int64_t>& outs) {
  const int64_t n_in = static_cast<int64_t>(ins.size());
  const int64_t n_out = static_cast<int64_t>(outs.size());
  std::vector<float> kept(n_in * n_out);
  for (int64_t i = 0; i < n_in; ++i) {
    for (int64_t o = 0; o < n_out; ++o) {
      const float x = v.at(ins[i], outs[o]);
      if (v.transposed) {
        kept[o * n_in + i] = x;
      } else {
        kept[i * n_out + o] = x;
      }
    }
  }
  const std::string name = v.tensor->name();
  *v.tensor = v.transposed ? MakeFloatTensor(name, {n_out, n_in}, kept)
                           : MakeFloatTensor(name, {n_in, n_out}, kept);
  v.in = n_in;
  v.out = n_out;
  v.values = std::move(kept);
}

std::vector<int64_t> Iota(int64_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

bool IsElementwiseActivation(const std::string& op) {
  static const char* const kOps[] = {"Relu", "LeakyRelu", "Sigmoid",  "Tanh",
                                     "Elu",  "Selu",      "Softplus", "Gelu"};
  return std::any_of(std::begin(kOps), std::end(kOps), [&](const char* k) { return op == k; });
}

// The only node reading `tensor` (null when zero or several, or a graph output reads it).
onnx::NodeProto* SoleReader(onnx::GraphProto& graph, const std::string& tensor) {
  if (CountReaders(graph, tensor) != 1) return nullptr;
  for (auto& node : *graph.mutable_node()) {
    for (const auto& in : node.input()) {
      if (in == tensor) return &node;
    }
  }
  return nullptr;
}

}  // namespace

Result<TransformResult> MagnitudePrune(onnx::ModelProto model, double sparsity) {
  if (!(sparsity >= 0 && sparsity < 1)) {
    return InvalidArgument(fmt::format("prune: sparsity {} is not in [0, 1)", sparsity));
  }
  onnx::GraphProto& graph = *model.mutable_graph();
  int layers = 0;
  int64_t zeroed = 0, total = 0;
  for (const auto& node : graph.node()) {
    auto view = ViewDense(graph, node);
    if (!view) continue;
    ++layers;
    std::vector<float>& w = view->values;
    const size_t k = static_cast<size_t>(std::floor(sparsity * static_cast<double>(w.size())));
    total += static_cast<int64_t>(w.size());
    if (k == 0) continue;
    std::vector<float> magnitudes(w.size());
    std::transform(w.begin(), w.end(), magnitudes.begin(), [](float x) { return std::fabs(x); });
    std::nth_element(magnitudes.begin(), magnitudes.begin() + (k - 1), magnitudes.end());
    const float threshold = magnitudes[k - 1];
    // Zero entries strictly below the threshold, then ties until exactly k are zero.
    size_t count = 0;
    for (float& x : w) count += std::fabs(x) < threshold ? (x = 0, 1) : 0;
    for (float& x : w) {
      if (count >= k) break;
      if (x != 0 && std::fabs(x) == threshold) {
        x = 0;
        ++count;
      }
    }
    zeroed += static_cast<int64_t>(count);
    std::vector<int64_t> dims(view->tensor->dims().begin(), view->tensor->dims().end());
    *view->tensor = MakeFloatTensor(view->tensor->name(), dims, w);
  }
  if (layers == 0) {
    return Unimplemented("prune: the model has no MatMul/Gemm with a constant FLOAT weight");
  }
  return TransformResult{std::move(model),
                         fmt::format("{} dense weights, {:.0f}% zero", layers,
                                     total ? 100.0 * static_cast<double>(zeroed) / total : 0.0)};
}

Result<TransformResult> StructuredPrune(onnx::ModelProto model, double fraction) {
  if (!(fraction >= 0 && fraction < 1)) {
    return InvalidArgument(fmt::format("structured: fraction {} is not in [0, 1)", fraction));
  }
  onnx::GraphProto& graph = *model.mutable_graph();
  int shrunk = 0;
  int64_t units_before = 0, units_after = 0;
  for (int n = 0; n < graph.node_size(); ++n) {
    onnx::NodeProto& first = *graph.mutable_node(n);
    auto w1 = ViewDense(graph, first);
    if (!w1) continue;
    // Optional bias: a Gemm's C, or an Add of a constant [H] right after a MatMul.
    onnx::TensorProto* bias = nullptr;
    std::string hidden = first.output(0);
    if (first.op_type() == "Gemm" && first.input_size() > 2 && !first.input(2).empty()) {
      bias = FindInitializer(graph, first.input(2));
      if (bias == nullptr) continue;
    } else if (onnx::NodeProto* add = SoleReader(graph, hidden);
               add != nullptr && add->op_type() == "Add" && add->input_size() == 2) {
      const std::string& other = add->input(0) == hidden ? add->input(1) : add->input(0);
      bias = FindInitializer(graph, other);
      if (bias != nullptr) hidden = add->output(0);
    }
    if (bias != nullptr) {
      int64_t count = 1;
      for (int64_t d : bias->dims()) count *= d;
      if (count != w1->out || CountReaders(graph, bias->name()) != 1 ||
          bias->data_type() != onnx::TensorProto::FLOAT) {
        continue;  // a broadcast or shared bias: leave this layer alone
      }
    }
    onnx::NodeProto* act = SoleReader(graph, hidden);
    if (act == nullptr || !IsElementwiseActivation(act->op_type())) continue;
    onnx::NodeProto* second = SoleReader(graph, act->output(0));
    if (second == nullptr || second->input(0) != act->output(0)) continue;
    auto w2 = ViewDense(graph, *second);
    if (!w2 || w2->in != w1->out) continue;

    const int64_t h = w1->out;
    const int64_t keep = std::max<int64_t>(
        1, h - static_cast<int64_t>(std::floor(fraction * static_cast<double>(h))));
    units_before += h;
    units_after += keep;
    if (keep == h) continue;
    std::vector<double> strength(h, 0.0);
    for (int64_t u = 0; u < h; ++u) {
      double a = 0, b = 0;
      for (int64_t i = 0; i < w1->in; ++i) a += double(w1->at(i, u)) * w1->at(i, u);
      for (int64_t o = 0; o < w2->out; ++o) b += double(w2->at(u, o)) * w2->at(u, o);
      strength[u] = std::sqrt(a) * std::sqrt(b);
    }
    std::vector<int64_t> order = Iota(h);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t x, int64_t y) { return strength[x] > strength[y]; });
    std::vector<int64_t> kept(order.begin(), order.begin() + keep);
    std::sort(kept.begin(), kept.end());
    Shrink(*w1, Iota(w1->in), kept);
    Shrink(*w2, kept, Iota(w2->out));
    if (bias != nullptr) {
      ASSIGN_OR_RETURN(std::vector<float> b, FloatValues(*bias));
      std::vector<float> kb;
      for (int64_t u : kept) kb.push_back(b[u]);
      std::vector<int64_t> dims(bias->dims().begin(), bias->dims().end());
      dims.back() = keep;
      *bias = MakeFloatTensor(bias->name(), dims, kb);
    }
    ++shrunk;
  }
  if (shrunk == 0) {
    return Unimplemented(
        "structured: no Dense -> activation -> Dense chain with constant weights to shrink");
  }
  DropValueInfo(model);
  return TransformResult{std::move(model), fmt::format("{} hidden layer(s), {} -> {} units", shrunk,
                                                       units_before, units_after)};
}

}  // namespace inferd::optimize
