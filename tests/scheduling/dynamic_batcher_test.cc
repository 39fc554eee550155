#include "scheduling/dynamic_batcher.h"

#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <thread>
#include <utility>

#include "test_payloads.h"

namespace inferd::scheduling {
namespace {

using testing::EchoInstance;
using testing::MakePayload;

struct Collector {
  std::mutex mu;
  std::vector<std::string> order;  // ids in completion order
  std::vector<Result<InferenceResponse>> results;
  std::promise<void> all_done;
  size_t expected = 0;
  void Add(Result<InferenceResponse> r, const std::string& id) {
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(id);
    results.push_back(std::move(r));
    if (results.size() == expected) all_done.set_value();
  }
};

DynamicBatcher::Options BatcherOptions(int64_t max_batch, int64_t delay_us) {
  DynamicBatcher::Options o;
  o.queue.max_batch_size = max_batch;
  o.queue.max_queue_delay = std::chrono::microseconds(delay_us);
  o.name = "m:1";
  return o;
}

TEST(DynamicBatcher, RequestsArrivingTogetherRunAsOneBatch) {
  std::promise<void> gate;
  auto instance = std::make_unique<EchoInstance>(gate.get_future().share());
  EchoInstance* echo = instance.get();
  std::vector<std::unique_ptr<backends::ModelInstance>> instances;
  instances.push_back(std::move(instance));
  auto batcher = DynamicBatcher::Create(std::move(instances), BatcherOptions(8, 0));
  ASSERT_TRUE(batcher.ok());
  Collector c;
  c.expected = 9;
  for (int i = 0; i < 9; ++i) {
    auto p = MakePayload(i);
    p->done = [&c, i](Result<InferenceResponse> r) { c.Add(std::move(r), std::to_string(i)); };
    (*batcher)->Enqueue(std::move(p));
  }
  // The first request runs alone (the engine was idle); the other 8 queue behind the gate.
  gate.set_value();
  c.all_done.get_future().wait();
  auto rows = echo->batch_rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0] + rows[1], 9);
  for (auto& r : c.results) ASSERT_TRUE(r.ok());
  for (size_t i = 0; i < c.results.size(); ++i) {
    EXPECT_EQ(c.results[i]->outputs[0].As<int32_t>()[0], std::stoi(c.order[i]));
  }
}

TEST(DynamicBatcher, PreserveOrderingDeliversInArrivalOrder) {
  std::vector<std::unique_ptr<backends::ModelInstance>> instances;
  for (int i = 0; i < 3; ++i) instances.push_back(std::make_unique<EchoInstance>());
  auto options = BatcherOptions(2, 0);
  options.preserve_ordering = true;
  auto batcher = DynamicBatcher::Create(std::move(instances), options);
  ASSERT_TRUE(batcher.ok());
  Collector c;
  c.expected = 60;
  for (int i = 0; i < 60; ++i) {
    auto p = MakePayload(i, 1, 1 + i % 3);  // three shapes: several batches in flight
    p->done = [&c, i](Result<InferenceResponse> r) { c.Add(std::move(r), std::to_string(i)); };
    (*batcher)->Enqueue(std::move(p));
  }
  c.all_done.get_future().wait();
  for (int i = 0; i < 60; ++i) EXPECT_EQ(c.order[i], std::to_string(i));
}

TEST(DynamicBatcher, TimedOutRequestsAreAnsweredWithoutRunning) {
  std::promise<void> gate;
  auto instance = std::make_unique<EchoInstance>(gate.get_future().share());
  EchoInstance* echo = instance.get();
  std::vector<std::unique_ptr<backends::ModelInstance>> instances;
  instances.push_back(std::move(instance));
  auto options = BatcherOptions(8, 0);
  // No default timeout; the second request asks for 1 ms (a busy machine may take longer than
  // that to start the first one, which must not expire).
  options.queue.queue_policies = {QueuePolicy{0, std::chrono::microseconds(0), true}};
  auto batcher = DynamicBatcher::Create(std::move(instances), options);
  ASSERT_TRUE(batcher.ok());
  Collector c;
  c.expected = 2;
  for (int i = 0; i < 2; ++i) {
    auto p = MakePayload(i);
    if (i == 1) p->request.parameters["timeout"] = int64_t{1000};
    p->done = [&c, i](Result<InferenceResponse> r) { c.Add(std::move(r), std::to_string(i)); };
    (*batcher)->Enqueue(std::move(p));
    // Let the worker take the first before the second arrives.
    while (i == 0 && (*batcher)->queued() != 0) std::this_thread::yield();
  }
  // The first runs (blocked); the second times out while it waits.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  gate.set_value();
  c.all_done.get_future().wait();
  ASSERT_EQ(c.order.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    if (c.order[i] == "1") {
      EXPECT_EQ(c.results[i].status().code(), StatusCode::kDeadlineExceeded);
    } else {
      EXPECT_TRUE(c.results[i].ok());
    }
  }
  EXPECT_EQ(echo->batch_rows(), (std::vector<int64_t>{1}));
}

TEST(DynamicBatcher, DestructionRunsQueuedWorkWithoutWaitingForTheDelay) {
  Collector c;
  c.expected = 3;
  {
    std::vector<std::unique_ptr<backends::ModelInstance>> instances;
    instances.push_back(std::make_unique<EchoInstance>());
    auto batcher = DynamicBatcher::Create(std::move(instances), BatcherOptions(8, 60000000));
    ASSERT_TRUE(batcher.ok());
    for (int i = 0; i < 3; ++i) {
      auto p = MakePayload(i);
      p->done = [&c, i](Result<InferenceResponse> r) { c.Add(std::move(r), std::to_string(i)); };
      (*batcher)->Enqueue(std::move(p));
    }
  }
  ASSERT_EQ(c.results.size(), 3u);
  for (auto& r : c.results) EXPECT_TRUE(r.ok());
}

TEST(DynamicBatcher, ALoneRequestDoesNotWaitOutTheDelay) {
  std::vector<std::unique_ptr<backends::ModelInstance>> instances;
  instances.push_back(std::make_unique<EchoInstance>());
  // A one-minute delay that a lone request on an idle model must not wait for.
  auto batcher = DynamicBatcher::Create(std::move(instances), BatcherOptions(8, 60000000));
  ASSERT_TRUE(batcher.ok());
  for (int i = 0; i < 3; ++i) {
    std::promise<Result<InferenceResponse>> answer;
    auto p = MakePayload(i);
    p->done = [&answer](Result<InferenceResponse> r) { answer.set_value(std::move(r)); };
    (*batcher)->Enqueue(std::move(p));
    auto future = answer.get_future();
    ASSERT_EQ(future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    EXPECT_TRUE(future.get().ok());
  }
}

TEST(DynamicBatcher, AShortBatchRunsOnTheEnqueuingThreadOnceMeasured) {
  std::vector<std::unique_ptr<backends::ModelInstance>> instances;
  instances.push_back(std::make_unique<EchoInstance>());
  auto options = BatcherOptions(8, 500);
  options.inline_max_compute_us = 1000000;  // any measured run is short enough
  auto batcher = DynamicBatcher::Create(std::move(instances), options);
  ASSERT_TRUE(batcher.ok());
  std::vector<std::thread::id> threads;
  for (int i = 0; i < 4; ++i) {
    std::promise<std::thread::id> ran_on;
    auto p = MakePayload(i);
    p->done = [&ran_on](Result<InferenceResponse>) { ran_on.set_value(std::this_thread::get_id()); };
    (*batcher)->Enqueue(std::move(p));
    threads.push_back(ran_on.get_future().get());
  }
  EXPECT_NE(threads[0], std::this_thread::get_id());  // unmeasured: a worker runs it
  EXPECT_EQ(threads[3], std::this_thread::get_id());
  EXPECT_GE((*batcher)->inline_runs(), 1u);
}

// Runs `hook` inside the batch that holds the value 100 (once).
class HookEcho : public EchoInstance {
 public:
  Result<std::vector<Tensor>> Execute(std::span<const Tensor> inputs,
                                      std::span<const std::string> outputs,
                                      backends::ExecutionTimings* t) override {
    for (int32_t v : inputs[0].As<int32_t>()) {
      if (v == 100 && hook) std::exchange(hook, {})();
    }
    return EchoInstance::Execute(inputs, outputs, t);
  }
  std::function<void()> hook;
};

TEST(DynamicBatcher, ADueBatchQueuedBehindAnInlineRunRunsOnItsThreadAfterIt) {
  auto owned = std::make_unique<HookEcho>();
  HookEcho* instance = owned.get();
  std::vector<std::unique_ptr<backends::ModelInstance>> instances;
  instances.push_back(std::move(owned));
  auto options = BatcherOptions(8, 0);  // no delay: a queued request is due at once
  options.inline_max_compute_us = 1000000;
  auto batcher = DynamicBatcher::Create(std::move(instances), options).value();
  auto run = [&](int value) {
    std::promise<std::thread::id> ran_on;
    auto p = MakePayload(value);
    p->done = [&ran_on](Result<InferenceResponse> r) {
      EXPECT_TRUE(r.ok());
      ran_on.set_value(std::this_thread::get_id());
    };
    batcher->Enqueue(std::move(p));
    return ran_on.get_future().get();
  };
  for (int i = 0; i < 100 && run(i) != std::this_thread::get_id(); ++i) {  // measured, inline
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(run(1), std::this_thread::get_id());

  // While this thread runs 100, another thread's request finds the instance taken and queues;
  // this thread then runs it too, instead of waking the worker.
  std::promise<std::thread::id> queued_ran_on;
  instance->hook = [&] {
    std::thread other([&] {
      auto p = MakePayload(101);
      p->done = [&queued_ran_on](Result<InferenceResponse> r) {
        EXPECT_TRUE(r.ok());
        queued_ran_on.set_value(std::this_thread::get_id());
      };
      batcher->Enqueue(std::move(p));
    });
    other.join();
    EXPECT_EQ(batcher->queued(), 1u);
  };
  const uint64_t inline_before = batcher->inline_runs();
  EXPECT_EQ(run(100), std::this_thread::get_id());
  EXPECT_EQ(queued_ran_on.get_future().get(), std::this_thread::get_id());
  EXPECT_EQ(batcher->inline_runs(), inline_before + 2);
}

TEST(DynamicBatcher, ModelsWithoutInlineRunsNeverRunOnTheEnqueuingThread) {
  std::vector<std::unique_ptr<backends::ModelInstance>> instances;
  instances.push_back(std::make_unique<EchoInstance>());
  auto batcher = DynamicBatcher::Create(std::move(instances), BatcherOptions(8, 500));
  ASSERT_TRUE(batcher.ok());
  for (int i = 0; i < 4; ++i) {
    std::promise<std::thread::id> ran_on;
    auto p = MakePayload(i);
    p->done = [&ran_on](Result<InferenceResponse>) { ran_on.set_value(std::this_thread::get_id()); };
    (*batcher)->Enqueue(std::move(p));
    EXPECT_NE(ran_on.get_future().get(), std::this_thread::get_id());
  }
  EXPECT_EQ((*batcher)->inline_runs(), 0u);
}

}  // namespace
}  // namespace inferd::scheduling
