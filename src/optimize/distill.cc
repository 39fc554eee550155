// The only file of inferd_optimize that includes libtorch (see distill.h).
#include "optimize/distill.h"

#include <fmt/format.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <random>

#include "optimize/onnx_model.h"

namespace inferd::optimize {
namespace {

onnx::NodeProto Node(const std::string& op, std::vector<std::string> in, std::string out) {
  onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(out + "_node");
  for (auto& i : in) n.add_input(std::move(i));
  n.add_output(std::move(out));
  return n;
}

void IntAttr(onnx::NodeProto& n, const std::string& name, int64_t value) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

std::vector<float> Values(const torch::Tensor& t) {
  torch::Tensor c = t.detach().contiguous().to(torch::kFloat32);
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// The student as an ONNX model with the teacher's input and output names and declarations.
onnx::ModelProto StudentGraph(const onnx::ModelProto& teacher, bool flatten, bool softmax,
                              torch::nn::Linear& l1, torch::nn::Linear& l2) {
  onnx::ModelProto m;
  m.set_ir_version(teacher.ir_version());
  m.set_producer_name("inferd optimize (distill)");
  for (const auto& op : teacher.opset_import()) {
    if (op.domain().empty() || op.domain() == "ai.onnx") *m.add_opset_import() = op;
  }
  onnx::GraphProto& g = *m.mutable_graph();
  g.set_name("student");
  const auto& in = teacher.graph().input(0);
  const auto& out = teacher.graph().output(0);
  *g.add_input() = in;
  *g.add_output() = out;
  std::string x = in.name();
  if (flatten) {
    auto n = Node("Flatten", {x}, "student_flat");
    IntAttr(n, "axis", 1);
    *g.add_node() = std::move(n);
    x = "student_flat";
  }
  const int64_t hidden = l1->weight.size(0);
  const int64_t features = l1->weight.size(1);
  const int64_t classes = l2->weight.size(0);
  *g.add_initializer() = MakeFloatTensor("student_W1", {hidden, features}, Values(l1->weight));
  *g.add_initializer() = MakeFloatTensor("student_b1", {hidden}, Values(l1->bias));
  *g.add_initializer() = MakeFloatTensor("student_W2", {classes, hidden}, Values(l2->weight));
  *g.add_initializer() = MakeFloatTensor("student_b2", {classes}, Values(l2->bias));
  auto gemm1 = Node("Gemm", {x, "student_W1", "student_b1"}, "student_h");
  IntAttr(gemm1, "transB", 1);
  *g.add_node() = std::move(gemm1);
  *g.add_node() = Node("Relu", {"student_h"}, "student_relu");
  auto gemm2 = Node("Gemm", {"student_relu", "student_W2", "student_b2"},
                    softmax ? "student_logits" : out.name());
  IntAttr(gemm2, "transB", 1);
  *g.add_node() = std::move(gemm2);
  if (softmax) {
    auto s = Node("Softmax", {"student_logits"}, out.name());
    IntAttr(s, "axis", 1);
    *g.add_node() = std::move(s);
  }
  return m;
}

// `count` samples uniform per feature within the eval set's [min, max] for that feature.
EvalSet SampleWithinRange(const EvalSet& eval_set, int64_t count) {
  EvalSet set;
  set.inputs = eval_set.inputs;
  set.count = count;
  std::mt19937 rng(16);
  const int64_t d = eval_set.inputs[0].sample_size();
  const auto& data = eval_set.data[0];
  std::vector<float> lo(d, 0), hi(d, 0);
  for (int64_t f = 0; f < d; ++f) {
    lo[f] = hi[f] = data[f];
    for (int64_t s = 1; s < eval_set.count; ++s) {
      lo[f] = std::min(lo[f], data[s * d + f]);
      hi[f] = std::max(hi[f], data[s * d + f]);
    }
  }
  std::vector<float> values(count * d);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int64_t s = 0; s < count; ++s) {
    for (int64_t f = 0; f < d; ++f) values[s * d + f] = lo[f] + (hi[f] - lo[f]) * u(rng);
  }
  set.data.push_back(std::move(values));
  return set;
}

}  // namespace

Result<TransformResult> Distill(const onnx::ModelProto& teacher, OrtEvaluator& evaluator,
                                const EvalSet& eval_set, const DistillOptions& options) {
  if (eval_set.inputs.size() != 1 || teacher.graph().output_size() != 1) {
    return Unimplemented(fmt::format(
        "distill: the student is a dense network with one input and one output; the teacher "
        "has {} inputs and {} outputs",
        eval_set.inputs.size(), teacher.graph().output_size()));
  }
  const std::string& out_name = teacher.graph().output(0).name();
  bool softmax = false;
  for (const auto& node : teacher.graph().node()) {
    if (node.output_size() > 0 && node.output(0) == out_name) softmax = node.op_type() == "Softmax";
  }
  const EvalSet train = options.train_inputs != nullptr
                            ? *options.train_inputs
                            : SampleWithinRange(eval_set, options.sampled_count);
  ASSIGN_OR_RETURN(auto session, evaluator.Load(teacher.SerializeAsString()));
  ASSIGN_OR_RETURN(auto targets, evaluator.Predict(*session, train, 256));

  torch::manual_seed(0);
  torch::set_num_threads(1);
  const int64_t features = train.inputs[0].sample_size();
  torch::Tensor x = torch::from_blob(const_cast<float*>(train.data[0].data()),
                                     {train.count, features}, torch::kFloat32)
                        .clone();
  torch::Tensor y =
      torch::from_blob(targets.values.data(), {train.count, targets.width}, torch::kFloat32)
          .clone();
  torch::nn::Linear l1(features, options.hidden_units), l2(options.hidden_units, targets.width);
  std::vector<torch::Tensor> params = l1->parameters();
  for (auto& p : l2->parameters()) params.push_back(p);
  torch::optim::Adam optimizer(params, torch::optim::AdamOptions(options.learning_rate));
  double last_loss = 0;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    torch::Tensor order = torch::randperm(train.count, torch::kLong);
    for (int64_t begin = 0; begin < train.count; begin += options.batch) {
      torch::Tensor idx = order.slice(0, begin, std::min(train.count, begin + options.batch));
      torch::Tensor z = l2(torch::relu(l1(x.index_select(0, idx))));
      torch::Tensor t = y.index_select(0, idx);
      torch::Tensor loss =
          softmax ? -(t * torch::log_softmax(z, 1)).sum(1).mean() : torch::mse_loss(z, t);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      last_loss = loss.item<double>();
    }
  }
  const bool flatten = train.inputs[0].sample_shape.size() != 1;
  onnx::ModelProto student = StudentGraph(teacher, flatten, softmax, l1, l2);
  DropValueInfo(student);
  return TransformResult{
      std::move(student),
      fmt::format("student {}->{}->{} on {} {} inputs, {} epochs, last loss {:.4f}", features,
                  options.hidden_units, targets.width, train.count,
                  options.train_inputs != nullptr ? "given" : "sampled", options.epochs,
                  last_loss)};
}

}  // namespace inferd::optimize
