// Helpers shared by the scheduling tests: payloads with an INT32 input whose rows carry a
// value, and a fake engine instance that echoes its input and records batch sizes.
#pragma once

#include <atomic>
#include <cstring>
#include <future>
#include <mutex>
#include <vector>

#include "backends/backend.h"
#include "scheduling/scheduler.h"

namespace inferd::scheduling::testing {

// A payload with input "IN" INT32 of shape [rows, width], every element = value.
inline std::unique_ptr<InferencePayload> MakePayload(int32_t value, int64_t rows = 1,
                                                     int64_t width = 2) {
  auto p = std::make_unique<InferencePayload>();
  p->request.model_name = "m";
  p->request.id = std::to_string(value);
  Tensor t("IN", DataType::kInt32, {rows, width});
  auto bytes = t.AllocateData(static_cast<size_t>(rows * width) * 4);
  auto* v = reinterpret_cast<int32_t*>(bytes.data());
  for (int64_t i = 0; i < rows * width; ++i) v[i] = value;
  p->request.inputs.push_back(std::move(t));
  p->output_names = {"OUT"};
  p->batch_size = rows;
  p->done = [](Result<InferenceResponse>) {};
  return p;
}

// Echoes "IN" as "OUT"; optionally blocks on a gate; records the rows of every execution.
class EchoInstance : public backends::ModelInstance {
 public:
  explicit EchoInstance(std::shared_future<void> gate = {}) : gate_(std::move(gate)) {}
  const config::ModelSignature& signature() const override { return signature_; }
  Result<std::vector<Tensor>> Execute(std::span<const Tensor> inputs, std::span<const std::string>,
                                      backends::ExecutionTimings*) override {
    if (gate_.valid()) gate_.wait();
    {
      std::lock_guard<std::mutex> lock(mu_);
      batch_rows_.push_back(inputs[0].shape()[0]);
    }
    Tensor out = inputs[0];
    out.set_name("OUT");
    return std::vector<Tensor>{out};
  }
  std::vector<int64_t> batch_rows() {
    std::lock_guard<std::mutex> lock(mu_);
    return batch_rows_;
  }

 private:
  std::shared_future<void> gate_;
  config::ModelSignature signature_;
  std::mutex mu_;
  std::vector<int64_t> batch_rows_;
};

}  // namespace inferd::scheduling::testing
