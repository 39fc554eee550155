// Checks on an ensemble's own config (platform "ensemble", Triton's ensemble_scheduling) that
// need no composing model: every step names a model and maps tensors, every tensor a step reads
// is an ensemble input or another step's output, each tensor has one producer, the steps form
// no cycle, every ensemble output is produced and every ensemble input is read. Also the step
// dependency graph the ensemble scheduler runs. Called by the repository when an ensemble
// loads (before its composing models are checked) and by the scheduler factory.
// Errors are INVALID_ARGUMENT starting "ensemble '<name>': ", steps numbered from 1.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "config/model_config.pb.h"
#include "core/status.h"

namespace inferd::config {

inline constexpr std::string_view kEnsemblePlatform = "ensemble";

// Whether the config describes an ensemble (platform "ensemble" or ensemble_scheduling set).
bool IsEnsemble(const ModelConfig& config);

// The checks listed above, plus: declared inputs and outputs (names, types, dims), no
// instance_group and no model_warmup (an ensemble has no engine of its own).
Status ValidateEnsembleConfig(const ModelConfig& config);

// For each step, the steps (0-based) whose outputs it reads, ascending and without repeats.
// Only meaningful for a config that ValidateEnsembleConfig accepted.
std::vector<std::vector<size_t>> EnsembleStepDependencies(const ModelConfig& config);

// Every step's run_if (step_condition.h) parses, and a tensor it tests is an ensemble input or
// another step's output. On an error, `failed_step` is the step (0-based). The config parser
// runs this too, to put the file and line of the run_if in front of the message.
Status ValidateStepConditions(const ModelConfig& config, int* failed_step);

// "step 2 (model 'classifier')": how messages name a step (index 0-based).
std::string DescribeEnsembleStep(const ModelConfig& config, size_t index);

}  // namespace inferd::config
