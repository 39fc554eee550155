#include "config/ensemble_config.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "config/model_config_validation.h"
#include "config/step_condition.h"

namespace inferd::config {
namespace {

Status Invalid(const ModelConfig& config, std::string_view message) {
  return InvalidArgument(fmt::format("ensemble '{}': {}", config.name(), message));
}

// Ensemble tensor name -> the steps (0-based) that write it: one, or several conditional ones
// (the branches of a choice).
using Producers = std::map<std::string, std::vector<size_t>, std::less<>>;

Status CheckSteps(const ModelConfig& config, Producers& producers) {
  const auto& steps = config.ensemble_scheduling().step();
  if (steps.empty()) return Invalid(config, "ensemble_scheduling has no step");
  std::set<std::string, std::less<>> inputs;
  for (const auto& in : config.input()) inputs.insert(in.name());
  for (int i = 0; i < steps.size(); ++i) {
    const auto& step = steps[i];
    const std::string what = DescribeEnsembleStep(config, static_cast<size_t>(i));
    if (step.model_name().empty()) {
      return Invalid(config, fmt::format("step {} has no model_name", i + 1));
    }
    if (step.model_name() == config.name()) {
      return Invalid(config, fmt::format("{} runs the ensemble itself", what));
    }
    if (step.model_version() < -1) {
      return Invalid(config, fmt::format("{} has model_version {}; use -1 for the latest", what,
                                         step.model_version()));
    }
    if (step.input_map().empty()) return Invalid(config, fmt::format("{} has no input_map", what));
    if (step.output_map().empty()) {
      return Invalid(config, fmt::format("{} has no output_map", what));
    }
    for (const auto& [model_tensor, ensemble_tensor] : step.output_map()) {
      if (model_tensor.empty() || ensemble_tensor.empty()) {
        return Invalid(config, fmt::format("{} has an empty name in output_map", what));
      }
      if (inputs.contains(ensemble_tensor)) {
        return Invalid(config, fmt::format("{} writes '{}', which is an ensemble input", what,
                                           ensemble_tensor));
      }
      auto& writers = producers[ensemble_tensor];
      if (!writers.empty()) {
        const size_t other = writers.front();
        const bool branch =
            !step.run_if().empty() && !steps[static_cast<int>(other)].run_if().empty();
        if (!branch) {
          return Invalid(config,
                         fmt::format("tensor '{}' is written by both {} and {} (only steps with "
                                     "run_if may share an output: the branches of a choice)",
                                     ensemble_tensor, DescribeEnsembleStep(config, other), what));
        }
      }
      writers.push_back(static_cast<size_t>(i));
    }
  }
  return Status::Ok();
}

Status CheckReads(const ModelConfig& config, const Producers& producers) {
  std::set<std::string, std::less<>> inputs, read;
  for (const auto& in : config.input()) inputs.insert(in.name());
  const auto& steps = config.ensemble_scheduling().step();
  for (int i = 0; i < steps.size(); ++i) {
    for (const auto& [model_tensor, ensemble_tensor] : steps[i].input_map()) {
      if (model_tensor.empty() || ensemble_tensor.empty()) {
        return Invalid(config, fmt::format("{} has an empty name in input_map",
                                           DescribeEnsembleStep(config, i)));
      }
      if (!inputs.contains(ensemble_tensor) && !producers.contains(ensemble_tensor)) {
        return Invalid(config,
                       fmt::format("{} reads '{}', which is neither an ensemble input nor the "
                                   "output of any step",
                                   DescribeEnsembleStep(config, i), ensemble_tensor));
      }
      read.insert(ensemble_tensor);
    }
    if (!steps[i].run_if().empty()) {  // an input tested by a condition is read too
      auto condition = ParseStepCondition(steps[i].run_if());
      if (condition.ok()) read.insert(condition->name);
    }
  }
  for (const auto& in : config.input()) {
    if (!read.contains(in.name())) {
      return Invalid(config, fmt::format("input '{}' is not read by any step", in.name()));
    }
  }
  for (const auto& out : config.output()) {
    if (!producers.contains(out.name())) {
      return Invalid(config, fmt::format("output '{}' is not written by any step", out.name()));
    }
  }
  return Status::Ok();
}

// Kahn's algorithm; on a cycle, names the steps left on it.
Status CheckAcyclic(const ModelConfig& config) {
  const auto deps = EnsembleStepDependencies(config);
  std::vector<size_t> pending(deps.size());
  std::vector<std::vector<size_t>> readers(deps.size());
  for (size_t i = 0; i < deps.size(); ++i) {
    pending[i] = deps[i].size();
    for (size_t d : deps[i]) readers[d].push_back(i);
  }
  std::vector<size_t> ready;
  for (size_t i = 0; i < deps.size(); ++i) {
    if (pending[i] == 0) ready.push_back(i);
  }
  size_t done = 0;
  while (!ready.empty()) {
    const size_t s = ready.back();
    ready.pop_back();
    ++done;
    for (size_t r : readers[s]) {
      if (--pending[r] == 0) ready.push_back(r);
    }
  }
  if (done == deps.size()) return Status::Ok();
  std::vector<std::string> cycle;
  for (size_t i = 0; i < deps.size(); ++i) {
    if (pending[i] > 0) cycle.push_back(DescribeEnsembleStep(config, i));
  }
  return Invalid(config, fmt::format("the steps form a cycle: {} each wait for another's output",
                                     fmt::join(cycle, ", ")));
}

}  // namespace

bool IsEnsemble(const ModelConfig& config) {
  return config.platform() == kEnsemblePlatform || config.has_ensemble_scheduling();
}

std::string DescribeEnsembleStep(const ModelConfig& config, size_t index) {
  const auto& steps = config.ensemble_scheduling().step();
  if (index >= static_cast<size_t>(steps.size())) return fmt::format("step {}", index + 1);
  return fmt::format("step {} (model '{}')", index + 1,
                     steps[static_cast<int>(index)].model_name());
}

Status ValidateEnsembleConfig(const ModelConfig& config) {
  if (config.platform() != kEnsemblePlatform) {
    return Invalid(config, fmt::format("ensemble_scheduling needs platform \"{}\" (not '{}')",
                                       kEnsemblePlatform, config.platform()));
  }
  if (!config.backend().empty()) {
    return Invalid(config,
                   fmt::format("an ensemble has no backend (it sets '{}')", config.backend()));
  }
  if (!config.has_ensemble_scheduling()) {
    return Invalid(config, "platform \"ensemble\" needs an ensemble_scheduling block");
  }
  if (config.input().empty() || config.output().empty()) {
    return Invalid(config, "an ensemble must declare its inputs and outputs");
  }
  if (config.instance_group_size() > 0 || config.model_warmup_size() > 0) {
    return Invalid(config,
                   "an ensemble runs no engine of its own: instance_group and "
                   "model_warmup belong to its composing models");
  }
  if (config.max_batch_size() < 0) {
    return Invalid(config, fmt::format("max_batch_size {} is negative", config.max_batch_size()));
  }
  RETURN_IF_ERROR(ValidateModelTensors(config));
  int failed_step = -1;
  if (Status s = ValidateStepConditions(config, &failed_step); !s.ok()) {
    return Invalid(
        config,
        fmt::format("{}: {}", DescribeEnsembleStep(config, static_cast<size_t>(failed_step)),
                    s.message()));
  }
  Producers producers;
  RETURN_IF_ERROR(CheckSteps(config, producers));
  RETURN_IF_ERROR(CheckReads(config, producers));
  return CheckAcyclic(config);
}

std::vector<std::vector<size_t>> EnsembleStepDependencies(const ModelConfig& config) {
  const auto& steps = config.ensemble_scheduling().step();
  Producers producers;
  for (int i = 0; i < steps.size(); ++i) {
    for (const auto& [model_tensor, ensemble_tensor] : steps[i].output_map()) {
      producers[ensemble_tensor].push_back(static_cast<size_t>(i));
    }
  }
  std::vector<std::vector<size_t>> deps(static_cast<size_t>(steps.size()));
  for (int i = 0; i < steps.size(); ++i) {
    std::set<size_t> from;
    auto depend_on = [&](const std::string& tensor) {
      auto it = producers.find(tensor);
      if (it != producers.end()) from.insert(it->second.begin(), it->second.end());
    };
    for (const auto& [model_tensor, ensemble_tensor] : steps[i].input_map()) {
      depend_on(ensemble_tensor);
    }
    if (!steps[i].run_if().empty()) {
      auto condition = ParseStepCondition(steps[i].run_if());
      if (condition.ok() && condition->source == StepCondition::Source::kTensor) {
        depend_on(condition->name);
      }
    }
    deps[static_cast<size_t>(i)].assign(from.begin(), from.end());
  }
  return deps;
}

Status ValidateStepConditions(const ModelConfig& config, int* failed_step) {
  const auto& steps = config.ensemble_scheduling().step();
  std::set<std::string, std::less<>> tensors;
  for (const auto& in : config.input()) tensors.insert(in.name());
  for (const auto& step : steps) {
    for (const auto& [model_tensor, ensemble_tensor] : step.output_map()) {
      tensors.insert(ensemble_tensor);
    }
  }
  for (int i = 0; i < steps.size(); ++i) {
    if (steps[i].run_if().empty()) continue;
    *failed_step = i;
    ASSIGN_OR_RETURN(StepCondition c, ParseStepCondition(steps[i].run_if()));
    if (c.source != StepCondition::Source::kTensor) continue;
    if (!tensors.contains(c.name)) {
      return InvalidArgument(fmt::format(
          "run_if '{}' tests '{}', which is neither an ensemble input nor the output of any "
          "step (request parameters are written parameters.<name>)",
          steps[i].run_if(), c.name));
    }
    for (const auto& [model_tensor, ensemble_tensor] : steps[i].output_map()) {
      if (ensemble_tensor == c.name) {
        return InvalidArgument(
            fmt::format("run_if '{}' tests the step's own output", steps[i].run_if()));
      }
    }
  }
  *failed_step = -1;
  return Status::Ok();
}

}  // namespace inferd::config
