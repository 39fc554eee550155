// PredictEngine: where `inferd predict` sends its batches. InProcessEngine runs them through the
// server's own facade (repository, scheduler, batcher); HttpEngine sends them to running servers
// (a fleet). PredictJob (predict_job.h) knows only this interface.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/inference_request.h"

namespace inferd::batch {

// One model input as a row sees it: the shape of one row (the batch dim left out).
struct InputSpec {
  std::string name = {};
  DataType dtype = DataType::kInvalid;
  Shape row_shape = {};  // fixed dims only; a variable dim (-1) makes rows unreadable by name
};

// What predict needs to know of the model it scores.
struct ModelSpec {
  std::string name = {};
  int64_t max_batch_size = 0;  // 0: the model takes no batch dim (one row per request)
  std::vector<InputSpec> inputs = {};
  std::vector<std::string> outputs = {};  // every output, in the model's order
};

class PredictEngine {
 public:
  using Done = std::function<void(Result<InferenceResponse>)>;
  virtual ~PredictEngine() = default;
  virtual Result<ModelSpec> Describe(const std::string& model) = 0;
  // Runs `request`; `done` is called exactly once, on any thread. Thread-safe.
  virtual void Infer(InferenceRequest request, Done done) = 0;
};

}  // namespace inferd::batch
