#include "scheduling/ensemble_scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "config/model_config_parser.h"
#include "test_payloads.h"

namespace inferd::scheduling {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

config::ModelConfig Parse(const char* text) {
  auto config = config::ParseModelConfig(text, "test");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? *config : config::ModelConfig();
}

// IN -> add_one -> T -> twice -> OUT, and a side branch IN -> add_one -> SIDE.
constexpr char kChain[] = R"(
    name: "chain" platform: "ensemble"
    input { name: "IN" data_type: TYPE_INT32 dims: [ -1, 2 ] }
    output { name: "OUT" data_type: TYPE_INT32 dims: [ -1, 2 ] }
    output { name: "SIDE" data_type: TYPE_INT32 dims: [ -1, 2 ] }
    ensemble_scheduling { step [
      { model_name: "twice" input_map { key: "x" value: "T" } output_map { key: "y" value: "OUT" } },
      { model_name: "add_one" input_map { key: "x" value: "IN" } output_map { key: "y" value: "T" } },
      { model_name: "add_one" input_map { key: "x" value: "IN" }
        output_map { key: "y" value: "SIDE" } } ] })";

// Composing "models" for the fake step runner: each maps input x to output y elementwise.
class FakeModels {
 public:
  void Run(InferenceRequest request, std::function<void(Result<InferenceResponse>)> done) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back(request.model_name);
      seen_inputs_[request.model_name] = request.inputs.at(0).data().data();
      deadlines_.push_back(request.deadline);
      traceparents_.push_back(request.traceparent);
    }
    if (request.model_name == "broken") return done(Unavailable("engine exploded"));
    const Tensor& x = request.inputs.at(0);
    Tensor y("y", x.dtype(), x.shape());
    auto bytes = y.AllocateData(x.byte_size());
    auto in = x.As<int32_t>();
    auto* out = reinterpret_cast<int32_t*>(bytes.data());
    for (size_t i = 0; i < in.size(); ++i) {
      out[i] = request.model_name == "twice" ? in[i] * 2 : in[i] + 1;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      outputs_.insert(y.data().data());
    }
    InferenceResponse r;
    r.outputs.push_back(std::move(y));
    if (async_) {
      std::thread([done = std::move(done), r = std::move(r)]() mutable {
        done(std::move(r));
      }).detach();
    } else {
      done(std::move(r));
    }
  }
  std::vector<std::string> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  bool async_ = false;
  std::mutex mu_;
  std::vector<std::string> calls_;
  std::map<std::string, const std::byte*> seen_inputs_;
  std::set<const std::byte*> outputs_;              // every buffer a step wrote
  std::vector<SteadyClock::time_point> deadlines_;  // per call
  std::vector<std::string> traceparents_;           // per call
};

std::unique_ptr<EnsembleScheduler> Make(const char* text, FakeModels& models) {
  auto s = EnsembleScheduler::Create(
      {.config = Parse(text), .run_step = [&models](InferenceRequest r, auto done) {
         models.Run(std::move(r), std::move(done));
       }});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

// Enqueues value-filled input IN and waits for the response.
Result<InferenceResponse> RunOnce(EnsembleScheduler& s, metrics::InferenceStats* stats,
                                  std::vector<std::string> outputs = {"OUT", "SIDE"},
                                  SteadyClock::time_point deadline = SteadyClock::time_point::max(),
                                  std::string traceparent = "") {
  auto payload = testing::MakePayload(5, 1, 2);
  payload->request.deadline = deadline;
  payload->request.traceparent = std::move(traceparent);
  payload->output_names.assign(outputs.begin(), outputs.end());
  payload->stats = stats;
  payload->enqueue_time = SteadyClock::now();
  std::promise<Result<InferenceResponse>> promise;
  payload->done = [&promise](Result<InferenceResponse> r) { promise.set_value(std::move(r)); };
  s.Enqueue(std::move(payload));
  return promise.get_future().get();
}

std::vector<int32_t> Values(const Tensor& t) {
  auto v = t.As<int32_t>();
  return {v.begin(), v.end()};
}

TEST(EnsembleScheduler, RunsStepsInDataOrderAndAnswersTheRequestedOutputs) {
  FakeModels models;
  auto s = Make(kChain, models);
  auto r = RunOnce(*s, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->outputs.size(), 2u);
  EXPECT_EQ(r->outputs[0].name(), "OUT");
  EXPECT_THAT(Values(r->outputs[0]), ElementsAre(12, 12));  // (5 + 1) * 2
  EXPECT_EQ(r->outputs[1].name(), "SIDE");
  EXPECT_THAT(Values(r->outputs[1]), ElementsAre(6, 6));
  // "twice" is listed first but waits for T, which an "add_one" writes.
  auto calls = models.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls.front(), "add_one");
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "twice"), 1);
}

TEST(EnsembleScheduler, PassesTensorsBetweenStepsWithoutCopying) {
  FakeModels models;
  auto s = Make(kChain, models);
  ASSERT_TRUE(RunOnce(*s, nullptr).ok());
  // What "twice" read is the very buffer an "add_one" wrote.
  EXPECT_TRUE(models.outputs_.contains(models.seen_inputs_["twice"]));
}

TEST(EnsembleScheduler, WorksWhenStepsCompleteOnOtherThreads) {
  FakeModels models;
  models.async_ = true;
  auto s = Make(kChain, models);
  for (int i = 0; i < 20; ++i) {
    auto r = RunOnce(*s, nullptr, {"OUT"});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_THAT(Values(r->outputs[0]), ElementsAre(12, 12));
  }
  EXPECT_EQ(s->in_flight(), 0u);
}

TEST(EnsembleScheduler, AFailingStepEndsTheRequestNamingTheStep) {
  FakeModels models;
  auto s = Make(R"(
      name: "chain" platform: "ensemble"
      input { name: "IN" data_type: TYPE_INT32 dims: [ -1, 2 ] }
      output { name: "OUT" data_type: TYPE_INT32 dims: [ -1, 2 ] }
      ensemble_scheduling { step [
        { model_name: "broken" input_map { key: "x" value: "IN" }
          output_map { key: "y" value: "T" } },
        { model_name: "twice" input_map { key: "x" value: "T" }
          output_map { key: "y" value: "OUT" } } ] })",
                models);
  metrics::InferenceStats stats;
  auto r = RunOnce(*s, &stats, {"OUT"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(),
              HasSubstr("ensemble 'chain' step 1 (model 'broken'): engine exploded"));
  EXPECT_THAT(models.calls(), ElementsAre("broken"));  // step 2 never ran
  EXPECT_EQ(stats.Snapshot().fail.count, 1u);
}

TEST(EnsembleScheduler, EveryStepGetsTheRequestsDeadlineAndTraceContext) {
  FakeModels models;
  auto s = Make(kChain, models);
  const auto deadline = SteadyClock::now() + std::chrono::seconds(30);
  const std::string parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  ASSERT_TRUE(RunOnce(*s, nullptr, {"OUT", "SIDE"}, deadline, parent).ok());
  ASSERT_EQ(models.deadlines_.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(models.deadlines_[i], deadline);
    EXPECT_EQ(models.traceparents_[i], parent);
  }
}

TEST(EnsembleScheduler, AStepAfterTheDeadlineFailsWithoutRunning) {
  FakeModels models;
  auto s = Make(kChain, models);
  metrics::InferenceStats stats;
  auto r = RunOnce(*s, &stats, {"OUT"}, SteadyClock::now() - std::chrono::milliseconds(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(r.status().message(),
              HasSubstr("the request's deadline passed before the step started"));
  EXPECT_TRUE(models.calls().empty());
  EXPECT_EQ(stats.Snapshot().fail.count, 1u);
}

TEST(EnsembleScheduler, RecordsTheEnsemblesOwnSuccess) {
  FakeModels models;
  auto s = Make(kChain, models);
  metrics::InferenceStats stats;
  ASSERT_TRUE(RunOnce(*s, &stats).ok());
  auto snap = stats.Snapshot();
  EXPECT_EQ(snap.success.count, 1u);
  EXPECT_EQ(snap.inference_count, 1u);
}

// IN -> add_one -> A; then "twice" when A's first element is over 10, else "add_one": a choice.
constexpr char kChoice[] = R"(
    name: "choice" platform: "ensemble"
    input { name: "IN" data_type: TYPE_INT32 dims: [ -1, 2 ] }
    output { name: "OUT" data_type: TYPE_INT32 dims: [ -1, 2 ] }
    ensemble_scheduling { step [
      { model_name: "add_one" input_map { key: "x" value: "IN" } output_map { key: "y" value: "A" } },
      { model_name: "twice" input_map { key: "x" value: "A" } output_map { key: "y" value: "OUT" }
        run_if: "A > 10" },
      { model_name: "add_one" input_map { key: "x" value: "A" } output_map { key: "y" value: "OUT" }
        run_if: "A <= 10" } ] })";

Result<InferenceResponse> RunValue(EnsembleScheduler& s, int32_t value, Parameters params = {}) {
  auto payload = testing::MakePayload(value, 1, 2);
  payload->output_names = {"OUT"};
  payload->request.parameters = std::move(params);
  payload->enqueue_time = SteadyClock::now();
  std::promise<Result<InferenceResponse>> promise;
  payload->done = [&promise](Result<InferenceResponse> r) { promise.set_value(std::move(r)); };
  s.Enqueue(std::move(payload));
  return promise.get_future().get();
}

TEST(EnsembleScheduler, AConditionOnAnEarlierOutputPicksTheBranch) {
  FakeModels models;
  auto s = Make(kChoice, models);
  auto r = RunValue(*s, 5);  // A = 6: add_one again
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Values(r->outputs[0]), ElementsAre(7, 7));
  EXPECT_THAT(models.calls(), ElementsAre("add_one", "add_one"));
  r = RunValue(*s, 20);  // A = 21: twice
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Values(r->outputs[0]), ElementsAre(42, 42));
}

TEST(EnsembleScheduler, AStepWhoseConditionFailsIsSkippedWithItsReaders) {
  FakeModels models;
  auto s = Make(R"(
      name: "optional" platform: "ensemble"
      input { name: "IN" data_type: TYPE_INT32 dims: [ -1, 2 ] }
      output { name: "OUT" data_type: TYPE_INT32 dims: [ -1, 2 ] }
      output { name: "EXTRA" data_type: TYPE_INT32 dims: [ -1, 2 ] }
      ensemble_scheduling { step [
        { model_name: "add_one" input_map { key: "x" value: "IN" }
          output_map { key: "y" value: "OUT" } },
        { model_name: "twice" input_map { key: "x" value: "IN" }
          output_map { key: "y" value: "T" } run_if: "parameters.extra == true" },
        { model_name: "add_one" input_map { key: "x" value: "T" }
          output_map { key: "y" value: "EXTRA" } } ] })",
                models);
  auto payload_outputs = [&](Parameters params) {
    auto payload = testing::MakePayload(1, 1, 2);
    payload->output_names = {"OUT"};
    payload->request.parameters = std::move(params);
    std::promise<Result<InferenceResponse>> promise;
    payload->done = [&promise](Result<InferenceResponse> r) { promise.set_value(std::move(r)); };
    s->Enqueue(std::move(payload));
    return promise.get_future().get();
  };
  auto r = payload_outputs({});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(models.calls(), ElementsAre("add_one"));  // "twice" and its reader skipped
  r = payload_outputs({{"extra", true}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(models.calls().size(), 4u);
}

TEST(EnsembleScheduler, AnOutputOnlySkippedStepsWriteIsAClearError) {
  FakeModels models;
  auto s = Make(R"(
      name: "gated" platform: "ensemble"
      input { name: "IN" data_type: TYPE_INT32 dims: [ -1, 2 ] }
      output { name: "OUT" data_type: TYPE_INT32 dims: [ -1, 2 ] }
      ensemble_scheduling { step [
        { model_name: "twice" input_map { key: "x" value: "IN" }
          output_map { key: "y" value: "OUT" } run_if: "parameters.go == 1" } ] })",
                models);
  auto r = RunValue(*s, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("no step wrote output 'OUT'"));
  r = RunValue(*s, 1, {{"go", int64_t{1}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

TEST(EnsembleScheduler, RefusesAnInvalidConfig) {
  auto s = EnsembleScheduler::Create({.config = Parse(R"(name: "e" platform: "ensemble")"),
                                      .run_step = [](InferenceRequest, auto) {}});
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace inferd::scheduling
