#include "scheduling/direct_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <future>
#include <thread>
#include <utility>

namespace inferd::scheduling {
namespace {

// A fake engine: echoes its first input as output "OUT" after an optional gate opens.
class EchoInstance : public backends::ModelInstance {
 public:
  explicit EchoInstance(std::shared_future<void> gate = {}) : gate_(std::move(gate)) {}
  const config::ModelSignature& signature() const override { return signature_; }
  Result<std::vector<Tensor>> Execute(std::span<const Tensor> inputs, std::span<const std::string>,
                                      backends::ExecutionTimings*) override {
    if (gate_.valid()) gate_.wait();
    ++runs;
    if (inputs.empty()) return Internal("no inputs");
    Tensor out = inputs[0];
    out.set_name("OUT");
    return std::vector<Tensor>{out};
  }
  std::atomic<int> runs{0};

 private:
  std::shared_future<void> gate_;
  config::ModelSignature signature_;
};

std::unique_ptr<InferencePayload> Payload(int value,
                                          std::promise<Result<InferenceResponse>>* done) {
  auto p = std::make_unique<InferencePayload>();
  p->request.model_name = "m";
  p->request.id = std::to_string(value);
  Tensor t("IN", DataType::kInt32, {1});
  auto bytes = t.AllocateData(4);
  std::memcpy(bytes.data(), &value, 4);
  p->request.inputs.push_back(std::move(t));
  p->output_names = {"OUT"};
  p->model_version = 7;
  p->done = [done](Result<InferenceResponse> r) { done->set_value(std::move(r)); };
  return p;
}

TEST(DirectScheduler, RunsEachPayloadAndAnswersWithItsOwnOutput) {
  std::vector<std::unique_ptr<backends::ModelInstance>> instances;
  instances.push_back(std::make_unique<EchoInstance>());
  instances.push_back(std::make_unique<EchoInstance>());
  auto sched = DirectScheduler::Create(std::move(instances), {0, "m"});
  ASSERT_TRUE(sched.ok());
  std::vector<std::promise<Result<InferenceResponse>>> done(50);
  for (int i = 0; i < 50; ++i) (*sched)->Enqueue(Payload(i, &done[i]));
  for (int i = 0; i < 50; ++i) {
    auto r = done[i].get_future().get();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->id, std::to_string(i));
    EXPECT_EQ(r->model_version, 7);
    EXPECT_EQ(r->outputs[0].As<int32_t>()[0], i);
  }
}

TEST(DirectScheduler, RejectsWithUnavailableWhenTheQueueIsFull) {
  std::promise<void> gate;
  std::vector<std::unique_ptr<backends::ModelInstance>> instances;
  instances.push_back(std::make_unique<EchoInstance>(gate.get_future().share()));
  auto sched = DirectScheduler::Create(std::move(instances), {1, "m"});
  ASSERT_TRUE(sched.ok());
  std::vector<std::promise<Result<InferenceResponse>>> done(3);
  (*sched)->Enqueue(Payload(0, &done[0]));  // taken by the worker, blocked on the gate
  while ((*sched)->queued() != 0) std::this_thread::yield();
  (*sched)->Enqueue(Payload(1, &done[1]));  // waits in the queue
  (*sched)->Enqueue(Payload(2, &done[2]));  // over max_queue_size
  auto rejected = done[2].get_future().get();
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().code(), StatusCode::kUnavailable);
  gate.set_value();
  EXPECT_TRUE(done[0].get_future().get().ok());
  EXPECT_TRUE(done[1].get_future().get().ok());
}

TEST(DirectScheduler, CancelledRequestsNeverRun) {
  std::promise<void> gate;
  auto instance = std::make_unique<EchoInstance>(gate.get_future().share());
  EchoInstance* echo = instance.get();
  std::vector<std::unique_ptr<backends::ModelInstance>> instances;
  instances.push_back(std::move(instance));
  auto sched = DirectScheduler::Create(std::move(instances), {0, "m"});
  ASSERT_TRUE(sched.ok());
  std::vector<std::promise<Result<InferenceResponse>>> done(2);
  (*sched)->Enqueue(Payload(0, &done[0]));
  while ((*sched)->queued() != 0) std::this_thread::yield();
  auto second = Payload(1, &done[1]);
  second->request.cancelled = std::make_shared<std::atomic<bool>>(false);
  auto flag = second->request.cancelled;
  (*sched)->Enqueue(std::move(second));
  flag->store(true);  // the client leaves while the request waits
  gate.set_value();
  EXPECT_TRUE(done[0].get_future().get().ok());
  EXPECT_EQ(done[1].get_future().get().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(echo->runs.load(), 1);
}

TEST(DirectScheduler, DestructionFinishesQueuedWork) {
  std::vector<std::promise<Result<InferenceResponse>>> done(10);
  {
    std::vector<std::unique_ptr<backends::ModelInstance>> instances;
    instances.push_back(std::make_unique<EchoInstance>());
    auto sched = DirectScheduler::Create(std::move(instances), {0, "m"});
    ASSERT_TRUE(sched.ok());
    for (int i = 0; i < 10; ++i) (*sched)->Enqueue(Payload(i, &done[i]));
  }
  for (auto& d : done) EXPECT_TRUE(d.get_future().get().ok());
}

}  // namespace
}  // namespace inferd::scheduling

namespace inferd::scheduling {
namespace {

Result<InferenceResponse> RunAndRecordThread(DirectScheduler& s, int value,
                                             std::thread::id* ran_on) {
  std::promise<Result<InferenceResponse>> done;
  auto p = Payload(value, &done);
  auto inner = std::move(p->done);
  p->done = [ran_on, inner = std::move(inner)](Result<InferenceResponse> r) {
    *ran_on = std::this_thread::get_id();
    inner(std::move(r));
  };
  s.Enqueue(std::move(p));
  return done.get_future().get();
}

std::unique_ptr<DirectScheduler> OneEchoScheduler(uint32_t inline_max_compute_us) {
  std::vector<std::unique_ptr<backends::ModelInstance>> instances;
  instances.push_back(std::make_unique<EchoInstance>());
  return DirectScheduler::Create(std::move(instances),
                                 {.name = "m", .inline_max_compute_us = inline_max_compute_us})
      .value();
}

TEST(DirectScheduler, AFastModelRunsOnTheEnqueuingThreadOnceMeasured) {
  auto s = OneEchoScheduler(/*inline_max_compute_us=*/1000000);
  std::thread::id ran_on;
  // Unmeasured: the first payload goes to the worker.
  ASSERT_TRUE(RunAndRecordThread(*s, 1, &ran_on).ok());
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_EQ(s->inline_runs(), 0u);
  // The worker records the first run's time just after answering it, so a payload enqueued
  // at once may still go to the worker; one of the next few runs inline.
  bool ran_inline = false;
  for (int i = 2; i < 100 && !ran_inline; ++i) {
    auto r = RunAndRecordThread(*s, i, &ran_on);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->id, std::to_string(i));
    ran_inline = ran_on == std::this_thread::get_id();
    if (!ran_inline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(ran_inline);
  EXPECT_GE(s->inline_runs(), 1u);
}

TEST(DirectScheduler, InlineRunsCanBeTurnedOff) {
  auto s = OneEchoScheduler(/*inline_max_compute_us=*/0);
  std::thread::id ran_on;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(RunAndRecordThread(*s, i, &ran_on).ok());
    EXPECT_NE(ran_on, std::this_thread::get_id());
  }
  EXPECT_EQ(s->inline_runs(), 0u);
}

// Runs `hook` inside the execution of the value 100 (once).
class HookInstance : public EchoInstance {
 public:
  Result<std::vector<Tensor>> Execute(std::span<const Tensor> inputs,
                                      std::span<const std::string> outputs,
                                      backends::ExecutionTimings* t) override {
    if (!inputs.empty() && inputs[0].As<int32_t>()[0] == 100 && hook) std::exchange(hook, {})();
    return EchoInstance::Execute(inputs, outputs, t);
  }
  std::function<void()> hook;
};

TEST(DirectScheduler, RequestsQueuedBehindAnInlineRunRunOnItsThreadAfterIt) {
  auto owned = std::make_unique<HookInstance>();
  HookInstance* instance = owned.get();
  std::vector<std::unique_ptr<backends::ModelInstance>> instances;
  instances.push_back(std::move(owned));
  auto s = DirectScheduler::Create(std::move(instances),
                                   {.name = "m", .inline_max_compute_us = 1000000})
               .value();
  std::thread::id ran_on;
  for (int i = 0; i < 100 && ran_on != std::this_thread::get_id(); ++i) {  // measured, inline
    ASSERT_TRUE(RunAndRecordThread(*s, i, &ran_on).ok());
    if (ran_on != std::this_thread::get_id()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(ran_on, std::this_thread::get_id());

  // While this thread runs 100 inline, another thread's request finds the only instance taken
  // and queues; this thread then runs it too, instead of waking the worker.
  std::promise<Result<InferenceResponse>> queued_done;
  std::thread::id queued_ran_on;
  instance->hook = [&] {
    std::thread other([&] {
      auto p = Payload(101, &queued_done);
      auto inner = std::move(p->done);
      p->done = [&queued_ran_on, inner = std::move(inner)](Result<InferenceResponse> r) {
        queued_ran_on = std::this_thread::get_id();
        inner(std::move(r));
      };
      s->Enqueue(std::move(p));
    });
    other.join();
    EXPECT_EQ(s->queued(), 1u);
  };
  const uint64_t inline_before = s->inline_runs();
  ASSERT_TRUE(RunAndRecordThread(*s, 100, &ran_on).ok());
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  auto queued = queued_done.get_future().get();
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(queued->outputs[0].As<int32_t>()[0], 101);
  EXPECT_EQ(queued_ran_on, std::this_thread::get_id());
  EXPECT_EQ(s->inline_runs(), inline_before + 2);
  EXPECT_EQ(s->queued(), 0u);
}

// Executions of ~2 ms: over a 100 µs bound, so they stay on the worker.
class SlowInstance : public EchoInstance {
 public:
  Result<std::vector<Tensor>> Execute(std::span<const Tensor> inputs,
                                      std::span<const std::string> outputs,
                                      backends::ExecutionTimings* t) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return EchoInstance::Execute(inputs, outputs, t);
  }
};

TEST(DirectScheduler, ASlowModelNeverRunsInline) {
  std::vector<std::unique_ptr<backends::ModelInstance>> instances;
  instances.push_back(std::make_unique<SlowInstance>());
  auto s = DirectScheduler::Create(std::move(instances),
                                   {.name = "m", .inline_max_compute_us = 100})
               .value();
  std::thread::id ran_on;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(RunAndRecordThread(*s, i, &ran_on).ok());
    EXPECT_NE(ran_on, std::this_thread::get_id());
  }
  EXPECT_EQ(s->inline_runs(), 0u);
}

}  // namespace
}  // namespace inferd::scheduling
