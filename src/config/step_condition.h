// Conditions on ensemble steps (inferd's own, beyond Triton): a step's `run_if` is one
// comparison of a request parameter or of an ensemble tensor's first element with a literal:
//
//   run_if: "parameters.lang == 'en'"      run_if: "CONFIDENCE < 0.9"
//   run_if: "parameters.detailed == true"  run_if: "IS_SPAM != 0"
//
// Operators == != < <= > >=; literals: numbers, 'text' or "text", true, false (text and
// booleans only with == and !=). Parsed at load (ensemble_config.h checks them with the
// config's file and line); evaluated by the EnsembleScheduler when the step's turn comes.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "core/inference_request.h"
#include "core/status.h"
#include "core/tensor.h"

namespace inferd::config {

struct StepCondition {
  enum class Source { kParameter, kTensor };
  enum class Op { kEq, kNe, kLt, kLe, kGt, kGe };
  Source source = Source::kParameter;
  std::string name;  // the parameter (without "parameters.") or the ensemble tensor
  Op op = Op::kEq;
  std::variant<double, std::string, bool> value;
};

// INVALID_ARGUMENT with what is wrong and where in the text.
Result<StepCondition> ParseStepCondition(std::string_view text);

// Whether the condition holds for this request. A parameter the request does not carry makes
// it false; so does an empty tensor. A parameter or tensor of another kind than the literal
// (a string parameter compared with a number) is INVALID_ARGUMENT.
Result<bool> EvaluateCondition(const StepCondition& condition, const Parameters& parameters,
                               const Tensor* tensor);

}  // namespace inferd::config
