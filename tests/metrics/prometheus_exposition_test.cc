#include "metrics/prometheus_exposition.h"

#include <map>
#include <set>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "metrics/prometheus_writer.h"

namespace inferd::metrics {
namespace {

using ::testing::HasSubstr;

// sample line "name{labels} value" -> value, keyed by everything before the last space.
std::map<std::string, std::string> Samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

Exposition OneModel() {
  InferenceStats stats;
  stats.RecordSuccess({1'000'000, 2'000, 3'000'000, 4'000, 5'000'000}, 2);
  stats.RecordFailure(1, FailureReason::kRejected);
  stats.RecordBatch(2, 2'000, 3'000'000, 4'000);
  stats.RecordCacheMiss(3'000);
  stats.AddPending(1);
  stats.SetLoadDuration(1'500'000'000);
  Exposition e;
  e.models.push_back({"simple", 1, stats.Snapshot()});
  e.connections.push_back({"http", 3, 7});
  return e;
}

TEST(PrometheusExposition, WritesTritonNamesWithModelAndVersionLabels) {
  const auto s = Samples(RenderPrometheus(OneModel()));
  const std::string l = R"({model="simple",version="1"})";
  EXPECT_EQ(s.at("nv_inference_request_success" + l), "1");
  EXPECT_EQ(s.at("nv_inference_count" + l), "2");
  EXPECT_EQ(s.at("nv_inference_exec_count" + l), "1");
  EXPECT_EQ(s.at("nv_inference_pending_request_count" + l), "1");
  EXPECT_EQ(s.at("nv_inference_request_duration_us" + l), "5000");
  EXPECT_EQ(s.at("nv_inference_queue_duration_us" + l), "1000");
  EXPECT_EQ(s.at("nv_inference_compute_input_duration_us" + l), "2");
  EXPECT_EQ(s.at("nv_inference_compute_infer_duration_us" + l), "3000");
  EXPECT_EQ(s.at("nv_inference_compute_output_duration_us" + l), "4");
  EXPECT_EQ(s.at("nv_model_load_duration_secs" + l), "1.5");
  EXPECT_EQ(s.at("nv_cache_num_misses_per_model" + l), "1");
  EXPECT_EQ(s.at("nv_cache_miss_duration_per_model" + l), "3");
  EXPECT_EQ(s.at(R"(nv_inference_request_failure{model="simple",version="1",reason="REJECTED"})"),
            "1");
  EXPECT_EQ(s.at(R"(nv_inference_request_failure{model="simple",version="1",reason="BACKEND"})"),
            "0");
  EXPECT_EQ(s.at(R"(inferd_open_connections{frontend="http"})"), "3");
  EXPECT_EQ(s.at(R"(inferd_connections_total{frontend="http"})"), "7");
}

TEST(PrometheusExposition, HistogramsAreCumulativeAndInSeconds) {
  const auto s = Samples(RenderPrometheus(OneModel()));
  const std::string p = R"(inferd_request_duration_seconds_bucket{model="simple",version="1",le=)";
  EXPECT_EQ(s.at(p + R"("0.0025"})"), "0");  // 5 ms is above 2.5 ms
  EXPECT_EQ(s.at(p + R"("0.005"})"), "1");
  EXPECT_EQ(s.at(p + R"("10"})"), "1");
  EXPECT_EQ(s.at(p + R"("+Inf"})"), "1");
  EXPECT_EQ(s.at(R"(inferd_request_duration_seconds_sum{model="simple",version="1"})"), "0.005");
  EXPECT_EQ(s.at(R"(inferd_request_duration_seconds_count{model="simple",version="1"})"), "1");
  EXPECT_EQ(s.at(R"(inferd_queue_duration_seconds_count{model="simple",version="1"})"), "1");
  EXPECT_EQ(s.at(R"(inferd_compute_duration_seconds_count{model="simple",version="1"})"), "1");
}

TEST(PrometheusExposition, EveryFamilyHasOneHelpAndTypeLine) {
  Exposition e = OneModel();
  e.models.push_back({"other", 2, InferenceStatsSnapshot{}});
  e.cache = CacheSnapshot{};
  const std::string text = RenderPrometheus(e);
  std::istringstream in(text);
  std::set<std::string> typed;
  std::set<std::string> sampled;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(typed.insert(name).second) << "duplicate TYPE for " << name;
    } else if (!line.empty() && line[0] != '#') {
      std::string name = line.substr(0, line.find_first_of("{ "));
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string sfx = suffix;
        if (name.size() > sfx.size() && name.ends_with(sfx) &&
            typed.count(name.substr(0, name.size() - sfx.size()))) {
          name = name.substr(0, name.size() - sfx.size());
        }
      }
      EXPECT_TRUE(typed.count(name)) << "sample before its TYPE: " << line;
    }
  }
  EXPECT_TRUE(typed.count("nv_cache_num_hits"));
  EXPECT_TRUE(typed.count("nv_cache_util"));
  EXPECT_TRUE(typed.count("nv_cpu_utilization"));
  EXPECT_TRUE(typed.count("inferd_process_resident_memory_bytes"));
}

TEST(PrometheusExposition, CacheFamiliesOnlyWhenTheCacheIsOn) {
  Exposition e = OneModel();
  EXPECT_THAT(RenderPrometheus(e), ::testing::Not(HasSubstr("nv_cache_num_entries")));
  CacheSnapshot cache;
  cache.entries = 2;
  cache.bytes_used = 50;
  cache.capacity_bytes = 200;
  cache.hits = 3;
  e.cache = cache;
  const auto s = Samples(RenderPrometheus(e));
  EXPECT_EQ(s.at("nv_cache_num_entries"), "2");
  EXPECT_EQ(s.at("nv_cache_num_hits"), "3");
  EXPECT_EQ(s.at("nv_cache_util"), "0.25");
}

TEST(PrometheusWriter, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  PrometheusWriter w;
  w.Sample("m", {{"model", "we\"ird"}}, uint64_t{1});
  EXPECT_EQ(w.text(), "m{model=\"we\\\"ird\"} 1\n");
}

}  // namespace
}  // namespace inferd::metrics
