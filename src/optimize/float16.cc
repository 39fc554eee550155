#include "optimize/float16.h"

#include <fmt/format.h>

#include <unordered_set>

#include "optimize/onnx_model.h"
#include "protocol/half.h"

namespace inferd::optimize {
namespace {

// Converts a FLOAT tensor to FLOAT16 in place; false when it is not FLOAT.
Result<bool> ToHalf(onnx::TensorProto& tensor) {
  if (tensor.data_type() != onnx::TensorProto::FLOAT) return false;
  ASSIGN_OR_RETURN(std::vector<float> values, FloatValues(tensor));
  std::string raw(values.size() * sizeof(uint16_t), '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    const uint16_t h = protocol::FloatToHalf(values[i]);
    raw[2 * i] = static_cast<char>(h & 0xff);
    raw[2 * i + 1] = static_cast<char>(h >> 8);
  }
  tensor.clear_float_data();
  tensor.set_data_type(onnx::TensorProto::FLOAT16);
  tensor.set_raw_data(std::move(raw));
  return true;
}

onnx::NodeProto MakeCast(const std::string& in, const std::string& out, int to) {
  onnx::NodeProto node;
  node.set_op_type("Cast");
  node.set_name(out + "_cast");
  node.add_input(in);
  node.add_output(out);
  auto* a = node.add_attribute();
  a->set_name("to");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(to);
  return node;
}

bool IsFloat(const onnx::ValueInfoProto& v) {
  return v.type().has_tensor_type() &&
         v.type().tensor_type().elem_type() == onnx::TensorProto::FLOAT;
}

}  // namespace

Result<TransformResult> ConvertToFloat16(onnx::ModelProto model) {
  onnx::GraphProto& graph = *model.mutable_graph();
  int converted = 0;
  std::unordered_set<std::string> initializer_names;
  for (auto& t : *graph.mutable_initializer()) {
    initializer_names.insert(t.name());
    ASSIGN_OR_RETURN(bool changed, ToHalf(t));
    converted += changed;
  }
  if (converted == 0) return Unimplemented("fp16: the model has no FLOAT weights to convert");
  for (auto& node : *graph.mutable_node()) {
    if (!node.domain().empty() && node.domain() != "ai.onnx") {
      return Unimplemented(
          fmt::format("fp16: node '{}' is a {}:{} op (only ONNX ops are "
                      "converted)",
                      node.name(), node.domain(), node.op_type()));
    }
    for (auto& a : *node.mutable_attribute()) {
      // A Constant's value_float / value_floats become a FLOAT16 `value` tensor.
      if (node.op_type() == "Constant" &&
          (a.name() == "value_float" || a.name() == "value_floats")) {
        const bool scalar = a.name() == "value_float";
        std::vector<float> values = scalar
                                        ? std::vector<float>{a.f()}
                                        : std::vector<float>(a.floats().begin(), a.floats().end());
        onnx::TensorProto t = MakeFloatTensor(
            "", scalar ? std::vector<int64_t>{} : std::vector<int64_t>{int64_t(values.size())},
            values);
        a.Clear();
        a.set_name("value");
        a.set_type(onnx::AttributeProto::TENSOR);
        *a.mutable_t() = std::move(t);
      }
      if (a.has_t()) RETURN_IF_ERROR(ToHalf(*a.mutable_t()).status());
      if (node.op_type() == "Cast" && a.name() == "to" && a.i() == onnx::TensorProto::FLOAT) {
        a.set_i(onnx::TensorProto::FLOAT16);
      }
    }
  }
  // Graph inputs stay FLOAT: readers get a FLOAT16 copy.
  std::vector<onnx::NodeProto> head, tail;
  for (const auto& in : graph.input()) {
    if (!IsFloat(in) || initializer_names.count(in.name())) continue;
    const std::string half = UniqueName(graph, in.name() + "_fp16");
    for (auto& node : *graph.mutable_node()) {
      for (auto& i : *node.mutable_input()) {
        if (i == in.name()) i = half;
      }
    }
    head.push_back(MakeCast(in.name(), half, onnx::TensorProto::FLOAT16));
  }
  // Graph outputs stay FLOAT: the producer writes a FLOAT16 tensor that a Cast widens.
  for (const auto& out : graph.output()) {
    if (!IsFloat(out)) continue;
    const std::string half = UniqueName(graph, out.name() + "_fp16");
    for (auto& node : *graph.mutable_node()) {
      for (auto& o : *node.mutable_output()) {
        if (o == out.name()) o = half;
      }
      for (auto& i : *node.mutable_input()) {
        if (i == out.name()) i = half;
      }
    }
    tail.push_back(MakeCast(half, out.name(), onnx::TensorProto::FLOAT));
  }
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (auto& n : head) *nodes.Add() = std::move(n);
  for (auto& n : *graph.mutable_node()) *nodes.Add() = std::move(n);
  for (auto& n : tail) *nodes.Add() = std::move(n);
  graph.mutable_node()->Swap(&nodes);
  DropValueInfo(model);
  return TransformResult{std::move(model),
                         fmt::format("{} weights fp16, fp32 inputs/outputs kept", converted)};
}

}  // namespace inferd::optimize
