#include "scheduling/batch_queue.h"

#include <gtest/gtest.h>

#include "test_payloads.h"

namespace inferd::scheduling {
namespace {

using std::chrono::microseconds;
using testing::MakePayload;
using TimePoint = SteadyClock::time_point;

// A fake clock: explicit times from an arbitrary origin.
const TimePoint kT0 = TimePoint() + std::chrono::hours(1);
TimePoint At(int64_t us) { return kT0 + microseconds(us); }

class BatchQueueTest : public ::testing::Test {
 protected:
  void Make(BatchQueueOptions o) { queue_ = std::make_unique<BatchQueue>(std::move(o)); }

  // Prepares and adds a payload at time `us`.
  Status Add(std::unique_ptr<InferencePayload> p, int64_t us) {
    p->enqueue_time = At(us);
    Status s = PreparePayload(queue_->options(), *p, At(us));
    if (!s.ok()) return s;
    return queue_->Add(p, At(us));
  }
  template <typename Payloads>
  std::vector<std::string> Ids(const Payloads& batch) {
    std::vector<std::string> ids;
    for (const auto& p : batch) ids.push_back(p->request.id);
    return ids;
  }

  std::unique_ptr<BatchQueue> queue_;
};

// Triton's semantics: the delay is waited out unless a batch fills (early dispatch is tested
// on its own below).
BatchQueueOptions Options(int64_t max_batch, int64_t delay_us) {
  BatchQueueOptions o;
  o.max_batch_size = max_batch;
  o.max_queue_delay = microseconds(delay_us);
  o.early_dispatch = false;
  return o;
}

BatchQueueOptions EarlyOptions(int64_t max_batch, int64_t delay_us) {
  BatchQueueOptions o = Options(max_batch, delay_us);
  o.early_dispatch = true;
  o.population_window = std::chrono::milliseconds(10);
  return o;
}

TEST_F(BatchQueueTest, WithoutDelayDispatchesWhateverIsQueuedAtOnce) {
  Make(Options(8, 0));
  ASSERT_TRUE(Add(MakePayload(1), 0).ok());
  ASSERT_TRUE(Add(MakePayload(2), 0).ok());
  auto d = queue_->Next(At(0));
  EXPECT_EQ(Ids(d.batch), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(queue_->size(), 0u);
}

TEST_F(BatchQueueTest, WaitsForTheDelayThenDispatchesAPartialBatch) {
  Make(Options(8, 100));
  ASSERT_TRUE(Add(MakePayload(1), 0).ok());
  ASSERT_TRUE(Add(MakePayload(2), 30).ok());
  auto d = queue_->Next(At(50));
  EXPECT_TRUE(d.batch.empty());
  ASSERT_TRUE(d.wake_at.has_value());
  EXPECT_EQ(*d.wake_at, At(100));  // the oldest request's delay
  d = queue_->Next(At(100));
  EXPECT_EQ(Ids(d.batch), (std::vector<std::string>{"1", "2"}));
}

TEST_F(BatchQueueTest, AFullBatchGoesBeforeTheDelay) {
  Make(Options(4, 1000000));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Add(MakePayload(i), i).ok());
  auto d = queue_->Next(At(5));
  EXPECT_EQ(d.batch.size(), 4u);
  EXPECT_EQ(queue_->size(), 1u);
}

TEST_F(BatchQueueTest, CountsRowsNotRequests) {
  Make(Options(8, 1000000));
  ASSERT_TRUE(Add(MakePayload(1, 3), 0).ok());
  ASSERT_TRUE(Add(MakePayload(2, 4), 0).ok());
  ASSERT_TRUE(Add(MakePayload(3, 2), 0).ok());  // 9 rows: does not fit with the first two
  auto d = queue_->Next(At(1));
  EXPECT_EQ(Ids(d.batch), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(queue_->size(), 1u);
}

TEST_F(BatchQueueTest, DispatchesTheLargestPreferredSizeAtOnce) {
  auto o = Options(8, 1000000);
  o.preferred_batch_sizes = {2, 4};
  Make(o);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Add(MakePayload(i), 0).ok());
  auto d = queue_->Next(At(1));
  EXPECT_EQ(d.batch.size(), 2u);  // 3 pending: 2 is the largest preferred size reachable
  for (int i = 3; i < 8; ++i) ASSERT_TRUE(Add(MakePayload(i), 2).ok());
  d = queue_->Next(At(3));
  EXPECT_EQ(d.batch.size(), 4u);
}

TEST_F(BatchQueueTest, BatchesOnlyRequestsWithTheSameNonBatchShape) {
  Make(Options(8, 0));
  ASSERT_TRUE(Add(MakePayload(1, 1, 2), 0).ok());
  ASSERT_TRUE(Add(MakePayload(2, 1, 3), 0).ok());
  ASSERT_TRUE(Add(MakePayload(3, 1, 2), 0).ok());
  auto d = queue_->Next(At(0));
  EXPECT_EQ(Ids(d.batch), (std::vector<std::string>{"1", "3"}));
  d = queue_->Next(At(0));
  EXPECT_EQ(Ids(d.batch), (std::vector<std::string>{"2"}));
}

TEST_F(BatchQueueTest, DifferentRequestedOutputsDoNotBatch) {
  Make(Options(8, 0));
  auto a = MakePayload(1);
  auto b = MakePayload(2);
  b->output_names = {"OTHER"};
  ASSERT_TRUE(Add(std::move(a), 0).ok());
  ASSERT_TRUE(Add(std::move(b), 0).ok());
  EXPECT_EQ(queue_->Next(At(0)).batch.size(), 1u);
  EXPECT_EQ(queue_->Next(At(0)).batch.size(), 1u);
}

// Adds a second input "X" of `dtype` and shape [1, width], before or after "IN".
std::unique_ptr<InferencePayload> WithSecondInput(std::unique_ptr<InferencePayload> p,
                                                  DataType dtype, int64_t width, bool first) {
  Tensor x("X", dtype, {1, width});
  x.AllocateData(static_cast<size_t>(width) * 4);
  auto& inputs = p->request.inputs;
  inputs.insert(first ? inputs.begin() : inputs.end(), std::move(x));
  return p;
}

TEST_F(BatchQueueTest, InputOrderDoesNotMatterButEveryInputsTypeAndShapeDo) {
  Make(Options(8, 0));
  ASSERT_TRUE(Add(WithSecondInput(MakePayload(1), DataType::kInt32, 3, false), 0).ok());
  ASSERT_TRUE(Add(WithSecondInput(MakePayload(2), DataType::kFp32, 3, false), 0).ok());
  ASSERT_TRUE(Add(WithSecondInput(MakePayload(3), DataType::kInt32, 3, true), 0).ok());
  ASSERT_TRUE(Add(WithSecondInput(MakePayload(4), DataType::kInt32, 5, true), 0).ok());
  ASSERT_TRUE(Add(MakePayload(5), 0).ok());
  EXPECT_EQ(Ids(queue_->Next(At(0)).batch), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(Ids(queue_->Next(At(0)).batch), (std::vector<std::string>{"2"}));
  EXPECT_EQ(Ids(queue_->Next(At(0)).batch), (std::vector<std::string>{"4"}));
  EXPECT_EQ(Ids(queue_->Next(At(0)).batch), (std::vector<std::string>{"5"}));
}

TEST_F(BatchQueueTest, RejectsWhenTheQueueIsFull) {
  auto o = Options(8, 1000);
  o.queue_policies = {QueuePolicy{2, microseconds(0), false}};
  Make(o);
  ASSERT_TRUE(Add(MakePayload(1), 0).ok());
  ASSERT_TRUE(Add(MakePayload(2), 0).ok());
  Status s = Add(MakePayload(3), 0);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("full"), std::string::npos);
}

TEST_F(BatchQueueTest, ExpiredRequestsAreAnsweredAndNeverBatched) {
  auto o = Options(8, 1000);
  o.queue_policies = {QueuePolicy{0, microseconds(500), false}};
  Make(o);
  ASSERT_TRUE(Add(MakePayload(1), 0).ok());
  auto d = queue_->Next(At(100));
  ASSERT_TRUE(d.wake_at.has_value());
  EXPECT_EQ(*d.wake_at, At(500));  // the deadline comes before the delay
  ASSERT_TRUE(Add(MakePayload(2), 400).ok());
  d = queue_->Next(At(600));
  EXPECT_EQ(Ids(d.expired), (std::vector<std::string>{"1"}));
  EXPECT_TRUE(d.batch.empty());
  EXPECT_EQ(queue_->size(), 1u);
}

TEST_F(BatchQueueTest, ARequestTimeoutShortensTheDefaultOnlyWhenAllowed) {
  auto o = Options(8, 10000);
  o.queue_policies = {QueuePolicy{0, microseconds(5000), true}};
  Make(o);
  auto p = MakePayload(1);
  p->request.parameters["timeout"] = int64_t{100};
  ASSERT_TRUE(Add(std::move(p), 0).ok());
  auto longer = MakePayload(2);
  longer->request.parameters["timeout"] = int64_t{9000};
  ASSERT_TRUE(Add(std::move(longer), 0).ok());
  auto d = queue_->Next(At(200));
  EXPECT_EQ(Ids(d.expired), (std::vector<std::string>{"1"}));
  d = queue_->Next(At(6000));
  EXPECT_EQ(Ids(d.expired), (std::vector<std::string>{"2"}));  // capped at the 5000us default

  o.queue_policies = {QueuePolicy{0, microseconds(0), false}};
  Make(o);
  p = MakePayload(3);
  p->request.parameters["timeout"] = int64_t{100};
  ASSERT_TRUE(Add(std::move(p), 0).ok());
  EXPECT_TRUE(queue_->Next(At(200)).expired.empty());  // overrides not allowed
}

TEST_F(BatchQueueTest, HigherPriorityRequestsGoFirst) {
  auto o = Options(2, 0);
  o.priority_levels = 2;
  o.default_priority_level = 1;
  Make(o);
  ASSERT_TRUE(Add(MakePayload(1), 0).ok());
  ASSERT_TRUE(Add(MakePayload(2), 1).ok());
  auto urgent = MakePayload(3);
  urgent->request.parameters["priority"] = int64_t{1};
  ASSERT_TRUE(Add(std::move(urgent), 2).ok());
  auto d = queue_->Next(At(3));
  EXPECT_EQ(Ids(d.batch), (std::vector<std::string>{"3", "1"}));
}

TEST_F(BatchQueueTest, RejectsAPriorityOutsideTheLevels) {
  auto o = Options(2, 0);
  o.priority_levels = 2;
  Make(o);
  auto p = MakePayload(1);
  p->request.parameters["priority"] = int64_t{3};
  EXPECT_EQ(Add(std::move(p), 0).code(), StatusCode::kInvalidArgument);
}

TEST_F(BatchQueueTest, CancelledRequestsAreDropped) {
  Make(Options(8, 1000));
  auto p = MakePayload(1);
  p->request.cancelled = std::make_shared<std::atomic<bool>>(false);
  auto flag = p->request.cancelled;
  ASSERT_TRUE(Add(std::move(p), 0).ok());
  flag->store(true);
  auto d = queue_->Next(At(10));
  EXPECT_EQ(d.cancelled.size(), 1u);
  EXPECT_EQ(queue_->size(), 0u);
}

TEST_F(BatchQueueTest, AdaptiveDelayDoesNotWaitAtLowLoad) {
  auto o = Options(8, 2000);
  o.adaptive_delay = true;
  Make(o);
  queue_->RecordExecution(microseconds(100), 1);
  // Arrivals every 1 ms: slower than one 100 us execution, so no waiting.
  ASSERT_TRUE(Add(MakePayload(1), 0).ok());
  ASSERT_TRUE(queue_->Next(At(0)).batch.size() == 1);
  ASSERT_TRUE(Add(MakePayload(2), 1000).ok());
  EXPECT_EQ(queue_->Next(At(1000)).batch.size(), 1u);
  EXPECT_EQ(queue_->QueueDelay(1).count(), 0);
}

TEST_F(BatchQueueTest, AdaptiveDelayWaitsUnderLoadButNoLongerThanOneExecution) {
  auto o = Options(8, 2000);
  o.adaptive_delay = true;
  Make(o);
  queue_->RecordExecution(microseconds(400), 4);
  // Arrivals every 10 us: much faster than a 400 us execution.
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(Add(MakePayload(i), i * 10).ok());
    queue_->Next(At(i * 10), /*flush=*/true);
  }
  const auto delay = std::chrono::duration_cast<microseconds>(queue_->QueueDelay(1));
  EXPECT_GT(delay.count(), 0);
  EXPECT_LE(delay.count(), 400);
  // 7 rows missing at ~10 us apart: about 70 us.
  EXPECT_LT(delay.count(), 150);
}

TEST_F(BatchQueueTest, FlushIgnoresTheDelay) {
  Make(Options(8, 1000000));
  ASSERT_TRUE(Add(MakePayload(1), 0).ok());
  EXPECT_TRUE(queue_->Next(At(1)).batch.empty());
  EXPECT_EQ(queue_->Next(At(1), /*flush=*/true).batch.size(), 1u);
}

TEST_F(BatchQueueTest, ALoneRequestOnAnIdleQueueRunsAtOnce) {
  Make(EarlyOptions(64, 500));
  ASSERT_TRUE(Add(MakePayload(1), 0).ok());
  EXPECT_EQ(queue_->Next(At(1)).batch.size(), 1u);  // nobody else is in the server
}

TEST_F(BatchQueueTest, WaitsWhileKnownClientsAreStillOutside) {
  Make(EarlyOptions(64, 500));
  // Window 1: eight clients' rows arrive together and run together.
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(Add(MakePayload(i), 0).ok());
  auto d = queue_->Next(At(1));
  ASSERT_EQ(d.batch.size(), 8u);
  queue_->RecordExecution(microseconds(100), 8);
  EXPECT_EQ(queue_->population(), 8);
  // The clients come back one by one: the batch waits until all eight are here...
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(Add(MakePayload(10 + i), 200 + i * 10).ok());
    d = queue_->Next(At(200 + i * 10));
    EXPECT_TRUE(d.batch.empty()) << "dispatched with " << i + 1 << " of 8 rows";
  }
  // ...and goes with the eighth, long before the 500 us delay.
  ASSERT_TRUE(Add(MakePayload(17), 280).ok());
  EXPECT_EQ(queue_->Next(At(280)).batch.size(), 8u);
}

TEST_F(BatchQueueTest, TwoFreeInstancesShareTheClientsOutside) {
  Make(EarlyOptions(64, 500));
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(Add(MakePayload(i), 0).ok());
  auto d = queue_->Next(At(1), false, 2);
  ASSERT_EQ(d.batch.size(), 8u);
  queue_->RecordExecution(microseconds(100), 8);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Add(MakePayload(10 + i), 200).ok());
  EXPECT_TRUE(queue_->Next(At(200), false, 2).batch.empty());
  ASSERT_TRUE(Add(MakePayload(13), 210).ok());
  d = queue_->Next(At(210), false, 2);  // half the population: one instance's share
  ASSERT_EQ(d.batch.size(), 4u);
  // The other instance's share: the four rows not executing.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Add(MakePayload(20 + i), 220).ok());
  EXPECT_TRUE(queue_->Next(At(220), false, 1).batch.empty());
  ASSERT_TRUE(Add(MakePayload(23), 230).ok());
  EXPECT_EQ(queue_->Next(At(230), false, 1).batch.size(), 4u);
}

TEST_F(BatchQueueTest, ThePopulationShrinksWhenClientsLeave) {
  Make(EarlyOptions(64, 500));
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(Add(MakePayload(i), 0).ok());
  queue_->Next(At(1));
  queue_->RecordExecution(microseconds(100), 8);
  // One client stays. Within two windows the others are forgotten and it runs at once again.
  int64_t t = 1000;
  for (; t < 40000; t += 1000) {
    ASSERT_TRUE(Add(MakePayload(static_cast<int32_t>(t)), t).ok());
    auto d = queue_->Next(At(t + 600));  // after the delay at the latest
    ASSERT_EQ(d.batch.size(), 1u);
    queue_->RecordExecution(microseconds(10), 1);
  }
  EXPECT_EQ(queue_->population(), 1);
  ASSERT_TRUE(Add(MakePayload(1), t).ok());
  EXPECT_EQ(queue_->Next(At(t)).batch.size(), 1u);
}

TEST_F(BatchQueueTest, AFastModelDoesNotWaitForStragglers) {
  auto o = EarlyOptions(64, 500);
  o.eager_below = microseconds(50);
  Make(o);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(Add(MakePayload(i), 0).ok());
  ASSERT_EQ(queue_->Next(At(1)).batch.size(), 8u);
  queue_->RecordExecution(microseconds(10), 8);  // 10 us a batch: under 50
  // Eight known clients; the first one back runs at once, and so does the next pair.
  ASSERT_TRUE(Add(MakePayload(10), 200).ok());
  EXPECT_EQ(queue_->Next(At(200)).batch.size(), 1u);
  queue_->RecordExecution(microseconds(10), 1);
  ASSERT_TRUE(Add(MakePayload(11), 210).ok());
  ASSERT_TRUE(Add(MakePayload(12), 211).ok());
  EXPECT_EQ(queue_->Next(At(212)).batch.size(), 2u);
}

TEST_F(BatchQueueTest, ASlowModelWaitsForItsPopulation) {
  auto o = EarlyOptions(64, 500);
  o.eager_below = microseconds(50);
  Make(o);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(Add(MakePayload(i), 0).ok());
  ASSERT_EQ(queue_->Next(At(1)).batch.size(), 8u);
  queue_->RecordExecution(microseconds(400), 8);  // a compute-bound model
  ASSERT_TRUE(Add(MakePayload(10), 600).ok());
  EXPECT_TRUE(queue_->Next(At(600)).batch.empty());
}

TEST_F(BatchQueueTest, WithoutEarlyDispatchALoneRequestWaitsTheDelay) {
  Make(Options(64, 500));
  ASSERT_TRUE(Add(MakePayload(1), 0).ok());
  auto d = queue_->Next(At(1));
  EXPECT_TRUE(d.batch.empty());
  ASSERT_TRUE(d.wake_at.has_value());
  EXPECT_EQ(*d.wake_at, At(500));
}

}  // namespace
}  // namespace inferd::scheduling
