#include "optimize/onnx_model.h"

#include <fmt/format.h>
#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_set>

namespace inferd::optimize {

Result<onnx::ModelProto> ParseOnnxModel(const std::string& bytes, const std::string& what) {
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes) || !model.has_graph() ||
      model.graph().node_size() == 0) {
    return InvalidArgument(
        fmt::format("'{}' is not an ONNX model (no ModelProto with a graph)", what));
  }
  return model;
}

Result<onnx::ModelProto> LoadOnnxModel(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(fmt::format("cannot read '{}'", path));
  std::stringstream bytes;
  bytes << in.rdbuf();
  return ParseOnnxModel(bytes.str(), path);
}

Status CheckOnnxModel(const onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
    onnx::ModelProto inferred = model;
    onnx::ShapeInferenceOptions options(/*check_type=*/true, /*strict_mode=*/1);
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    return InvalidArgument(fmt::format("ONNX checker: {}", e.what()));
  }
  return Status::Ok();
}

void DropValueInfo(onnx::ModelProto& model) { model.mutable_graph()->clear_value_info(); }

onnx::TensorProto* FindInitializer(onnx::GraphProto& graph, const std::string& name) {
  for (auto& t : *graph.mutable_initializer()) {
    if (t.name() == name) return &t;
  }
  return nullptr;
}

Result<std::vector<float>> FloatValues(const onnx::TensorProto& tensor) {
  if (tensor.data_type() != onnx::TensorProto::FLOAT) {
    return InvalidArgument(fmt::format("initializer '{}' is not FLOAT", tensor.name()));
  }
  if (tensor.has_data_location() && tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    return Unimplemented(
        fmt::format("initializer '{}' has external data (not supported)", tensor.name()));
  }
  int64_t count = 1;
  for (int64_t d : tensor.dims()) count *= d;
  std::vector<float> values;
  if (tensor.has_raw_data()) {
    if (tensor.raw_data().size() != static_cast<size_t>(count) * sizeof(float)) {
      return InvalidArgument(
          fmt::format("initializer '{}': raw_data size does not match dims", tensor.name()));
    }
    values.resize(count);
    std::memcpy(values.data(), tensor.raw_data().data(), tensor.raw_data().size());
  } else {
    values.assign(tensor.float_data().begin(), tensor.float_data().end());
    if (static_cast<int64_t>(values.size()) != count) {
      return InvalidArgument(
          fmt::format("initializer '{}': float_data size does not match dims", tensor.name()));
    }
  }
  return values;
}

onnx::TensorProto MakeFloatTensor(const std::string& name, std::vector<int64_t> dims,
                                  const std::vector<float>& values) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  t.set_raw_data(values.data(), values.size() * sizeof(float));
  return t;
}

int CountReaders(const onnx::GraphProto& graph, const std::string& tensor) {
  int n = 0;
  for (const auto& node : graph.node()) {
    for (const auto& in : node.input()) n += in == tensor;
  }
  for (const auto& out : graph.output()) n += out.name() == tensor;
  return n;
}

void RemoveUnreadInitializers(onnx::GraphProto& graph) {
  std::unordered_set<std::string> removed;
  auto* inits = graph.mutable_initializer();
  for (int i = inits->size() - 1; i >= 0; --i) {
    if (CountReaders(graph, inits->Get(i).name()) == 0) {
      removed.insert(inits->Get(i).name());
      inits->DeleteSubrange(i, 1);
    }
  }
  auto* inputs = graph.mutable_input();
  for (int i = inputs->size() - 1; i >= 0; --i) {
    if (removed.count(inputs->Get(i).name())) inputs->DeleteSubrange(i, 1);
  }
}

int64_t OnnxOpset(const onnx::ModelProto& model) {
  for (const auto& op : model.opset_import()) {
    if (op.domain().empty() || op.domain() == "ai.onnx") return op.version();
  }
  return 0;
}

std::string UniqueName(const onnx::GraphProto& graph, const std::string& base) {
  std::unordered_set<std::string> used;
  for (const auto& n : graph.node()) {
    used.insert(n.name());
    for (const auto& o : n.output()) used.insert(o);
  }
  for (const auto& t : graph.initializer()) used.insert(t.name());
  for (const auto& v : graph.input()) used.insert(v.name());
  if (!used.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string name = fmt::format("{}_{}", base, i);
    if (!used.count(name)) return name;
  }
}

}  // namespace inferd::optimize
