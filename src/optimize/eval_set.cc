#include "optimize/eval_set.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

namespace inferd::optimize {
namespace {

void Flatten(const nlohmann::json& j, std::vector<float>& out) {
  if (j.is_array()) {
    for (const auto& e : j) Flatten(e, out);
  } else {
    out.push_back(j.get<float>());
  }
}

}  // namespace

int64_t ModelInput::sample_size() const {
  int64_t n = 1;
  for (int64_t d : sample_shape) n *= d;
  return n;
}

Result<std::vector<ModelInput>> ModelInputs(const onnx::ModelProto& model) {
  std::set<std::string> initializers;
  for (const auto& t : model.graph().initializer()) initializers.insert(t.name());
  std::vector<ModelInput> inputs;
  for (const auto& in : model.graph().input()) {
    if (initializers.count(in.name())) continue;
    const auto& type = in.type().tensor_type();
    if (!in.type().has_tensor_type() || type.elem_type() != onnx::TensorProto::FLOAT) {
      return Unimplemented(fmt::format(
          "input '{}' is not a FLOAT tensor (optimize evaluates FLOAT inputs only)", in.name()));
    }
    ModelInput mi;
    mi.name = in.name();
    const auto& dims = type.shape().dim();
    if (dims.empty())
      return Unimplemented(fmt::format("input '{}' has no batch dimension", in.name()));
    if (dims[0].has_dim_value()) mi.fixed_batch = dims[0].dim_value();
    for (int i = 1; i < dims.size(); ++i) {
      if (!dims[i].has_dim_value() || dims[i].dim_value() <= 0) {
        return Unimplemented(
            fmt::format("input '{}': dimension {} is dynamic (only the first, the batch, may be)",
                        in.name(), i));
      }
      mi.sample_shape.push_back(dims[i].dim_value());
    }
    inputs.push_back(std::move(mi));
  }
  if (inputs.empty()) return Unimplemented("the model has no inputs to feed");
  return inputs;
}

Result<EvalSet> LoadEvalSet(const std::string& path, std::vector<ModelInput> inputs) {
  std::ifstream in(path);
  if (!in) return NotFound(fmt::format("cannot read eval set '{}'", path));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.str());
  } catch (const std::exception& e) {
    return InvalidArgument(fmt::format("eval set '{}' is not JSON: {}", path, e.what()));
  }
  if (!j.is_object() || !j.contains("inputs") || !j["inputs"].is_object()) {
    return InvalidArgument(fmt::format("eval set '{}': no \"inputs\" object", path));
  }
  EvalSet set;
  for (const auto& [name, value] : j["inputs"].items()) {
    bool known = false;
    for (const auto& mi : inputs) known |= mi.name == name;
    if (!known) {
      return InvalidArgument(
          fmt::format("eval set '{}': input '{}' is not an input of the model", path, name));
    }
  }
  for (const auto& mi : inputs) {
    if (!j["inputs"].contains(mi.name) || !j["inputs"][mi.name].is_array()) {
      return InvalidArgument(
          fmt::format("eval set '{}': no samples for the model's input '{}'", path, mi.name));
    }
    const auto& samples = j["inputs"][mi.name];
    const auto count = static_cast<int64_t>(samples.size());
    if (set.count != 0 && count != set.count) {
      return InvalidArgument(fmt::format("eval set '{}': input '{}' has {} samples, others {}",
                                         path, mi.name, count, set.count));
    }
    set.count = count;
    std::vector<float> values;
    try {
      for (int64_t s = 0; s < count; ++s) {
        const size_t before = values.size();
        Flatten(samples[s], values);
        if (static_cast<int64_t>(values.size() - before) != mi.sample_size()) {
          return InvalidArgument(fmt::format(
              "eval set '{}': sample {} of input '{}' has {} values, the model takes {}", path, s,
              mi.name, values.size() - before, mi.sample_size()));
        }
      }
    } catch (const nlohmann::json::exception&) {
      return InvalidArgument(fmt::format(
          "eval set '{}': input '{}' holds a value that is not a number", path, mi.name));
    }
    set.data.push_back(std::move(values));
  }
  if (set.count == 0) return InvalidArgument(fmt::format("eval set '{}' has no samples", path));
  if (j.contains("labels")) {
    try {
      set.labels = j["labels"].get<std::vector<int64_t>>();
    } catch (const nlohmann::json::exception&) {
      return InvalidArgument(fmt::format("eval set '{}': labels are not integers", path));
    }
    if (static_cast<int64_t>(set.labels.size()) != set.count) {
      return InvalidArgument(fmt::format("eval set '{}': {} labels for {} samples", path,
                                         set.labels.size(), set.count));
    }
  }
  set.inputs = std::move(inputs);
  return set;
}

EvalSet SampleEvalSet(std::vector<ModelInput> inputs, int64_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  EvalSet set;
  set.count = count;
  for (const auto& mi : inputs) {
    std::vector<float> values(count * mi.sample_size());
    for (float& v : values) v = uniform(rng);
    set.data.push_back(std::move(values));
  }
  set.inputs = std::move(inputs);
  return set;
}

}  // namespace inferd::optimize
