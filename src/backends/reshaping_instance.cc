#include "backends/reshaping_instance.h"

#include <algorithm>
#include <map>
#include <string>

namespace inferd::backends {
namespace {

using DimList = std::vector<int64_t>;

// Fills the -1 dims of `target` so that it holds `elements` elements: with `variable` (the
// request's values at its variable dims) when there are as many, else the single -1 from the
// element count. Returns `fallback` when neither works.
Shape Fill(const DimList& target, const DimList& variable, int64_t elements,
           const Shape& fallback) {
  Shape out(target.begin(), target.end());
  const auto unknown = std::count(out.begin(), out.end(), -1);
  if (unknown == 0) return out;
  if (static_cast<size_t>(unknown) == variable.size()) {
    size_t next = 0;
    for (int64_t& d : out) {
      if (d == -1) d = variable[next++];
    }
    if (ElementCount(out) == elements) return out;
    out.assign(target.begin(), target.end());
  }
  if (unknown != 1) return fallback;
  int64_t known = 1;
  for (int64_t d : out) known *= d == -1 ? 1 : d;
  if (known == 0 || elements % known != 0) return fallback;
  *std::find(out.begin(), out.end(), -1) = elements / known;
  return out;
}

struct Mapping {
  DimList client;  // config dims (without the batch dim)
  DimList engine;  // reshape shape (without the batch dim)
};

class ReshapingInstance final : public ModelInstance {
 public:
  ReshapingInstance(std::unique_ptr<ModelInstance> inner, bool batched,
                    std::map<std::string, Mapping, std::less<>> inputs,
                    std::map<std::string, Mapping, std::less<>> outputs)
      : inner_(std::move(inner)),
        batched_(batched),
        inputs_(std::move(inputs)),
        outputs_(std::move(outputs)) {}

  const config::ModelSignature& signature() const override { return inner_->signature(); }

  Result<std::vector<Tensor>> Execute(std::span<const Tensor> inputs,
                                      std::span<const std::string> output_names,
                                      ExecutionTimings* timings) override {
    return ExecuteWithContext(inputs, output_names, ExecutionContext{}, timings);
  }

  Result<std::vector<Tensor>> ExecuteWithContext(std::span<const Tensor> inputs,
                                                 std::span<const std::string> output_names,
                                                 const ExecutionContext& context,
                                                 ExecutionTimings* timings) override {
    std::vector<Tensor> reshaped(inputs.begin(), inputs.end());  // shares the bytes
    for (Tensor& t : reshaped) {
      auto it = inputs_.find(t.name());
      if (it == inputs_.end()) continue;
      t.set_shape(ReshapeForEngine(t.shape(), it->second.client, it->second.engine, batched_));
    }
    ASSIGN_OR_RETURN(std::vector<Tensor> outputs,
                     inner_->ExecuteWithContext(reshaped, output_names, context, timings));
    for (size_t i = 0; i < outputs.size() && i < output_names.size(); ++i) {
      Tensor& t = outputs[i];
      auto it = outputs_.find(output_names[i]);
      if (it == outputs_.end()) continue;
      // The way back: from the engine's reshape to the config's dims.
      t.set_shape(ReshapeForEngine(t.shape(), it->second.engine, it->second.client, batched_));
    }
    return outputs;
  }

 private:
  std::unique_ptr<ModelInstance> inner_;
  const bool batched_;
  const std::map<std::string, Mapping, std::less<>> inputs_, outputs_;
};

template <typename Specs>
std::map<std::string, Mapping, std::less<>> Mappings(const Specs& specs) {
  std::map<std::string, Mapping, std::less<>> out;
  for (const auto& spec : specs) {
    if (!spec.has_reshape()) continue;
    out[spec.name()] =
        Mapping{DimList(spec.dims().begin(), spec.dims().end()),
                DimList(spec.reshape().shape().begin(), spec.reshape().shape().end())};
  }
  return out;
}

}  // namespace

Shape ReshapeForEngine(const Shape& shape, std::span<const int64_t> dims,
                       std::span<const int64_t> reshape, bool batched) {
  if (batched && shape.empty()) return shape;
  const size_t first = batched ? 1 : 0;
  const Shape rows(shape.begin() + static_cast<std::ptrdiff_t>(first), shape.end());
  DimList variable;
  for (size_t i = 0; i < dims.size() && i < rows.size(); ++i) {
    if (dims[i] == -1) variable.push_back(rows[i]);
  }
  Shape out = Fill(DimList(reshape.begin(), reshape.end()), variable, ElementCount(rows), rows);
  if (batched) out.insert(out.begin(), shape[0]);
  return out;
}

std::unique_ptr<ModelInstance> WithReshape(const config::ModelConfig& config,
                                           std::unique_ptr<ModelInstance> instance) {
  auto inputs = Mappings(config.input());
  auto outputs = Mappings(config.output());
  if (inputs.empty() && outputs.empty()) return instance;
  return std::make_unique<ReshapingInstance>(std::move(instance), config.max_batch_size() > 0,
                                             std::move(inputs), std::move(outputs));
}

}  // namespace inferd::backends
