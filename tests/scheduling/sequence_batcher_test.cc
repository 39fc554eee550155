#include "scheduling/sequence_batcher.h"

#include <gtest/gtest.h>

#include <cstring>
#include <future>
#include <mutex>
#include <thread>
#include <utility>

#include "config/model_config_parser.h"

namespace inferd::scheduling {
namespace {

// A fake engine: OUTPUT = STATE_IN * (1 - START) + INPUT and STATE_OUT = OUTPUT per row, the
// running sum a stateful model keeps; it records the rows of each execution.
class AccumulatorInstance final : public backends::ModelInstance {
 public:
  const config::ModelSignature& signature() const override { return signature_; }
  Result<std::vector<Tensor>> Execute(std::span<const Tensor> inputs,
                                      std::span<const std::string> output_names,
                                      backends::ExecutionTimings*) override {
    const Tensor *in = nullptr, *start = nullptr, *state = nullptr;
    for (const Tensor& t : inputs) {
      if (t.name() == "INPUT") in = &t;
      if (t.name() == "START") start = &t;
      if (t.name() == "STATE_IN") state = &t;
    }
    if (!in || !start || !state) return InvalidArgument("missing an input");
    if (gate_.valid()) std::exchange(gate_, {}).wait();  // held until the test releases it
    const int64_t rows = in->shape()[0];
    {
      std::lock_guard<std::mutex> lock(mu_);
      rows_.push_back(rows);
    }
    std::vector<float> sums(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
      float x, s, st;
      std::memcpy(&x, in->data().data() + 4 * r, 4);
      std::memcpy(&s, start->data().data() + 4 * r, 4);
      std::memcpy(&st, state->data().data() + 4 * r, 4);
      sums[static_cast<size_t>(r)] = st * (1 - s) + x;
    }
    std::vector<Tensor> out;
    for (const std::string& name : output_names) {
      Tensor t(name, DataType::kFp32, {rows, 1});
      std::memcpy(t.AllocateData(sums.size() * 4).data(), sums.data(), sums.size() * 4);
      out.push_back(std::move(t));
    }
    return out;
  }
  // The next execution waits for `gate`.
  void HoldNext(std::shared_future<void> gate) { gate_ = std::move(gate); }
  std::vector<int64_t> rows() {
    std::lock_guard<std::mutex> lock(mu_);
    return rows_;
  }

 private:
  config::ModelSignature signature_;
  std::mutex mu_;
  std::vector<int64_t> rows_;
  std::shared_future<void> gate_;  // set before the worker runs; read only by the worker
};

constexpr char kConfig[] = R"(name: "acc" max_batch_size: 4
  input { name: "INPUT" data_type: TYPE_FP32 dims: [ 1 ] }
  output { name: "OUTPUT" data_type: TYPE_FP32 dims: [ 1 ] }
  sequence_batching {
    max_sequence_idle_microseconds: 50000
    control_input [ { name: "START"
      control [ { kind: CONTROL_SEQUENCE_START fp32_false_true: [ 0, 1 ] } ] } ]
    state [ { input_name: "STATE_IN" output_name: "STATE_OUT" data_type: TYPE_FP32
              dims: [ 1 ] } ]
    oldest { max_candidate_sequences: 8 max_queue_delay_microseconds: 0 }
  })";

struct Fixture {
  AccumulatorInstance* engine = nullptr;
  std::unique_ptr<SequenceBatcher> batcher;
};

Fixture Make() {
  auto config = config::ParseModelConfig(kConfig, "test");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  auto instance = std::make_unique<AccumulatorInstance>();
  Fixture f;
  f.engine = instance.get();
  std::vector<std::unique_ptr<backends::ModelInstance>> instances;
  instances.push_back(std::move(instance));
  auto batcher = SequenceBatcher::Create(*config, std::move(instances), "acc:1");
  EXPECT_TRUE(batcher.ok()) << batcher.status().ToString();
  f.batcher = std::move(batcher).value();
  return f;
}

std::unique_ptr<InferencePayload> Step(ParameterValue id, float value, bool start, bool end,
                                       std::promise<Result<InferenceResponse>>* result) {
  auto p = std::make_unique<InferencePayload>();
  Tensor t("INPUT", DataType::kFp32, {1, 1});
  std::memcpy(t.AllocateData(4).data(), &value, 4);
  p->request.inputs.push_back(std::move(t));
  p->request.parameters["sequence_id"] = id;
  if (start) p->request.parameters["sequence_start"] = true;
  if (end) p->request.parameters["sequence_end"] = true;
  p->output_names = {"OUTPUT"};
  p->enqueue_time = SteadyClock::now();
  p->done = [result](Result<InferenceResponse> r) { result->set_value(std::move(r)); };
  return p;
}

// Runs one request and answers its OUTPUT, or the error's message.
std::string RunStep(SequenceBatcher& b, ParameterValue id, float value, bool start = false,
                bool end = false) {
  std::promise<Result<InferenceResponse>> result;
  b.Enqueue(Step(std::move(id), value, start, end, &result));
  auto r = result.get_future().get();
  if (!r.ok()) return r.status().message();
  if (r->outputs.size() != 1) return "outputs: " + std::to_string(r->outputs.size());
  return std::to_string(static_cast<int>(r->outputs[0].As<float>()[0]));
}

TEST(SequenceBatcher, KeepsEachSequencesStateBetweenItsRequests) {
  Fixture f = Make();
  EXPECT_EQ(RunStep(*f.batcher, int64_t{7}, 2, true), "2");
  EXPECT_EQ(RunStep(*f.batcher, std::string("s"), 10, true), "10");
  EXPECT_EQ(RunStep(*f.batcher, int64_t{7}, 3), "5");
  EXPECT_EQ(RunStep(*f.batcher, std::string("s"), 1, false, true), "11");
  EXPECT_EQ(RunStep(*f.batcher, int64_t{7}, 4, false, true), "9");
  // Both ended: their slots are freed just after their answers are delivered.
  for (int i = 0; i < 100 && f.batcher->active_sequences() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(f.batcher->active_sequences(), 0u);
}

TEST(SequenceBatcher, RefusesARequestOfASequenceThatNeverStarted) {
  Fixture f = Make();
  EXPECT_NE(RunStep(*f.batcher, int64_t{9}, 1).find("has not started"), std::string::npos);
  std::promise<Result<InferenceResponse>> result;
  auto p = Step(int64_t{9}, 1, true, false, &result);
  p->request.parameters.erase("sequence_id");
  f.batcher->Enqueue(std::move(p));
  auto r = result.get_future().get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("sequence_id"), std::string::npos);
}

TEST(SequenceBatcher, DropsASequenceIdleForLongerThanTheLimit) {
  Fixture f = Make();
  EXPECT_EQ(RunStep(*f.batcher, int64_t{3}, 1, true), "1");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(f.batcher->active_sequences(), 0u);
  EXPECT_NE(RunStep(*f.batcher, int64_t{3}, 1).find("idle"), std::string::npos);
}

TEST(SequenceBatcher, BatchesTheHeadsOfDifferentSequencesThatWaitTogether) {
  Fixture f = Make();
  for (int64_t id = 1; id <= 4; ++id) EXPECT_EQ(RunStep(*f.batcher, id, 1, true), "1");
  // Sequence 5's first request holds the engine while the others' next requests queue.
  std::promise<void> gate;
  f.engine->HoldNext(gate.get_future().share());
  std::promise<Result<InferenceResponse>> held, results[4];
  f.batcher->Enqueue(Step(int64_t{5}, 1, true, true, &held));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (int64_t id = 1; id <= 4; ++id) {
    f.batcher->Enqueue(Step(id, 1, false, true, &results[id - 1]));
  }
  gate.set_value();
  ASSERT_TRUE(held.get_future().get().ok());
  for (auto& r : results) {
    auto got = r.get_future().get();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->outputs[0].As<float>()[0], 2.0f);  // each its own sequence's sum
  }
  const std::vector<int64_t> rows = f.engine->rows();
  ASSERT_EQ(rows.size(), 6u);  // 4 starts alone, sequence 5, then one batch of 4
  EXPECT_EQ(rows.back(), 4);
}

}  // namespace
}  // namespace inferd::scheduling
