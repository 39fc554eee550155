#include "metrics/inference_stats.h"

#include <thread>

#include <gtest/gtest.h>

namespace inferd::metrics {
namespace {

RequestTimings Timings(uint64_t queue, uint64_t in, uint64_t infer, uint64_t out, uint64_t total) {
  return {queue, in, infer, out, total};
}

TEST(InferenceStats, SuccessFeedsCountersAndHistograms) {
  InferenceStats stats;
  stats.RecordSuccess(Timings(1000, 200, 3000, 400, 5000), 8);
  const auto s = stats.Snapshot();
  EXPECT_EQ(s.inference_count, 8u);
  EXPECT_EQ(s.success.count, 1u);
  EXPECT_EQ(s.success.ns, 5000u);
  EXPECT_EQ(s.queue.ns, 1000u);
  EXPECT_EQ(s.compute_infer.ns, 3000u);
  EXPECT_EQ(s.request_duration.count, 1u);
  EXPECT_EQ(s.request_duration.sum_ns, 5000u);
  EXPECT_EQ(s.queue_duration.sum_ns, 1000u);
  EXPECT_EQ(s.compute_duration.sum_ns, 3600u);
  EXPECT_GT(s.last_inference_ms, 0u);
}

TEST(InferenceStats, FailuresAreCountedByReason) {
  InferenceStats stats;
  stats.RecordFailure(10);
  stats.RecordFailure(20, FailureReason::kRejected);
  stats.RecordFailure(30, FailureReason::kBackend);
  const auto s = stats.Snapshot();
  EXPECT_EQ(s.fail.count, 3u);
  EXPECT_EQ(s.fail.ns, 60u);
  EXPECT_EQ(s.failures_by_reason[static_cast<int>(FailureReason::kOther)], 1u);
  EXPECT_EQ(s.failures_by_reason[static_cast<int>(FailureReason::kRejected)], 1u);
  EXPECT_EQ(s.failures_by_reason[static_cast<int>(FailureReason::kBackend)], 1u);
  EXPECT_EQ(s.failures_by_reason[static_cast<int>(FailureReason::kCanceled)], 0u);
  EXPECT_STREQ(FailureReasonName(FailureReason::kRejected), "REJECTED");
}

TEST(InferenceStats, RecordBatchCountsTheExecutionAndGroupsByBatchSize) {
  InferenceStats stats;
  stats.RecordBatch(4, 10, 100, 1);
  stats.RecordBatch(1, 20, 200, 2);
  stats.RecordBatch(4, 30, 300, 3);
  stats.RecordExecution();  // the older call counts an execution without batch stats
  const auto s = stats.Snapshot();
  EXPECT_EQ(s.execution_count, 4u);
  ASSERT_EQ(s.batch_stats.size(), 2u);
  EXPECT_EQ(s.batch_stats[0].batch_size, 1u);
  EXPECT_EQ(s.batch_stats[0].compute_infer.count, 1u);
  EXPECT_EQ(s.batch_stats[1].batch_size, 4u);
  EXPECT_EQ(s.batch_stats[1].compute_input.count, 2u);
  EXPECT_EQ(s.batch_stats[1].compute_input.ns, 40u);
  EXPECT_EQ(s.batch_stats[1].compute_infer.ns, 400u);
  EXPECT_EQ(s.batch_stats[1].compute_output.ns, 4u);
}

TEST(InferenceStats, CacheHitIsASuccessWithoutInferenceOrExecution) {
  InferenceStats stats;
  stats.RecordCacheHit(700, 900);
  stats.RecordCacheMiss(1500);
  const auto s = stats.Snapshot();
  EXPECT_EQ(s.cache_hit.count, 1u);
  EXPECT_EQ(s.cache_hit.ns, 700u);
  EXPECT_EQ(s.cache_miss.count, 1u);
  EXPECT_EQ(s.cache_miss.ns, 1500u);
  EXPECT_EQ(s.success.count, 1u);
  EXPECT_EQ(s.inference_count, 0u);
  EXPECT_EQ(s.execution_count, 0u);
  EXPECT_EQ(s.queue.count, 0u);
  EXPECT_EQ(s.request_duration.count, 1u);
}

TEST(InferenceStats, PendingGoesUpAndDown) {
  InferenceStats stats;
  stats.AddPending(1);
  stats.AddPending(1);
  stats.AddPending(-1);
  EXPECT_EQ(stats.Snapshot().pending, 1);
}

TEST(InferenceStats, LastRecordedTimingsArePerThreadAndTakenOnce) {
  InferenceStats stats;
  stats.RecordSuccess(Timings(1, 2, 3, 4, 10), 1);
  RequestTimings other_thread;
  std::thread([&] { other_thread = InferenceStats::TakeLastRecordedTimings(); }).join();
  EXPECT_EQ(other_thread.total_ns, 0u);
  const RequestTimings mine = InferenceStats::TakeLastRecordedTimings();
  EXPECT_EQ(mine.queue_ns, 1u);
  EXPECT_EQ(mine.total_ns, 10u);
  EXPECT_EQ(InferenceStats::TakeLastRecordedTimings().total_ns, 0u);
}

}  // namespace
}  // namespace inferd::metrics
