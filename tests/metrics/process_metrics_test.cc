#include "metrics/process_metrics.h"

#include <gtest/gtest.h>

namespace inferd::metrics {
namespace {

TEST(ProcessSampler, ReadsThisProcessAndTheHost) {
  ProcessSampler sampler;
  const ProcessSnapshot s = sampler.Sample();
  EXPECT_GT(s.resident_memory_bytes, 1u << 20);
  EXPECT_GE(s.threads, 1u);
  EXPECT_GE(s.open_fds, 3u);
  EXPECT_GT(s.host_memory_total_bytes, s.host_memory_used_bytes);
  EXPECT_GE(s.host_cpu_utilization, 0.0);
  EXPECT_LE(s.host_cpu_utilization, 1.0);
  EXPECT_GT(s.start_time_seconds, 1.5e9);
  const ProcessSnapshot again = sampler.Sample();
  EXPECT_GE(again.host_cpu_utilization, 0.0);
  EXPECT_LE(again.host_cpu_utilization, 1.0);
}

}  // namespace
}  // namespace inferd::metrics
