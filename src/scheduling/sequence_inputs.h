// The inputs a SequenceBatcher feeds a stateful model besides the client's: the control inputs
// of `sequence_batching.control_input` (START, END, READY, CORRID) and the implicit states of
// `sequence_batching.state`, parsed once from the config and built per request row. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/model_config.pb.h"
#include "core/status.h"
#include "core/tensor.h"

namespace inferd::scheduling {

struct SequenceControl {
  std::string input;
  config::ModelSequenceBatching::Control::Kind kind =
      config::ModelSequenceBatching::Control::CONTROL_SEQUENCE_START;
  DataType dtype = DataType::kInvalid;
  std::vector<std::byte> false_value, true_value;  // one element each (not for CORRID)
};

struct SequenceState {
  std::string input, output;  // what the model takes and gives back
  DataType dtype = DataType::kInvalid;
  Shape dims;  // without the batch dim; fixed
};

// INVALID_ARGUMENT naming the control input or state the batcher cannot serve.
Result<std::vector<SequenceControl>> ParseSequenceControls(
    const config::ModelSequenceBatching& batching);
Result<std::vector<SequenceState>> ParseSequenceStates(
    const config::ModelSequenceBatching& batching);

// One row's control tensors (shape [1], or [1,1] when `batched`). `sequence_id` is "n:<number>"
// or "s:<text>"; INVALID_ARGUMENT for a string id and a numeric CORRID.
Result<std::vector<Tensor>> SequenceControlTensors(const std::vector<SequenceControl>& controls,
                                                   std::string_view sequence_id, bool start,
                                                   bool end, bool batched);
// A state's value at a sequence's start: zeros of its dims (with a batch dim of 1 if `batched`).
Tensor InitialState(const SequenceState& state, bool batched);

}  // namespace inferd::scheduling
