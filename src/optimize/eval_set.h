// The evaluation inputs of `inferd optimize`: a JSON file
//
//   {"inputs": {"<input name>": [sample, sample, …], …}, "labels": [3, 1, …]}
//
// (each sample a number or nested arrays in the input's shape without its batch dimension;
// "labels" optional, class indices compared with the first output's top-1), or, without a file,
// samples drawn uniformly from [0, 1) — the range the repository's random_data warm-up uses.
// FLOAT inputs only.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace inferd::optimize {

struct ModelInput {
  std::string name;
  std::vector<int64_t> sample_shape;  // without the batch dimension
  int64_t fixed_batch = 0;            // the first dimension when the model fixes it, else 0
  int64_t sample_size() const;
};

struct EvalSet {
  std::vector<ModelInput> inputs;        // in the model's order
  std::vector<std::vector<float>> data;  // per input: count × sample_size values
  std::vector<int64_t> labels;           // empty: no labels
  int64_t count = 0;
};

// The model's graph inputs (initializers excluded); UNIMPLEMENTED for a non-FLOAT input or a
// dynamic dimension other than the first.
Result<std::vector<ModelInput>> ModelInputs(const onnx::ModelProto& model);

// Reads the JSON eval file and checks it against `inputs`: every input present, no unknown
// name, each sample of the input's size, as many labels as samples.
Result<EvalSet> LoadEvalSet(const std::string& path, std::vector<ModelInput> inputs);

// `count` samples uniform in [0, 1), from a fixed seed.
EvalSet SampleEvalSet(std::vector<ModelInput> inputs, int64_t count, uint32_t seed);

}  // namespace inferd::optimize
