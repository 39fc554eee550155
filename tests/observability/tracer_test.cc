#include "observability/tracer.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "observability/request_trace.h"

namespace inferd::observability {
namespace {

using json = nlohmann::json;

Tracer::Options Opts(double rate, std::string file = "", std::string endpoint = "") {
  Tracer::Options o;
  o.sample_rate = rate;
  o.file = std::move(file);
  o.otlp_endpoint = std::move(endpoint);
  return o;
}

Trace SampleTrace() {
  InferTraceTimes t;
  t.start_unix_ns = 1'000'000;
  t.decode_ns = 100;
  t.facade_start_unix_ns = 1'000'200;
  t.facade_end_unix_ns = 1'005'000;
  t.queue_ns = 1'000;
  t.compute_ns = 3'000;
  t.encode_start_unix_ns = 1'005'100;
  t.encode_ns = 200;
  t.end_unix_ns = 1'006'000;
  InferTraceInfo info{"POST /v2/models/simple/infer", "simple", 1, 200, false};
  SpanId parent{};
  parent[7] = 9;
  return MakeInferTrace(NewTraceId(), NewSpanId(), parent, t, info);
}

TEST(MakeInferTrace, RootSpanWithOneChildPerStage) {
  const Trace trace = SampleTrace();
  ASSERT_EQ(trace.spans.size(), 5u);
  EXPECT_TRUE(trace.spans[0].server_kind);
  EXPECT_EQ(ToHex(trace.spans[0].parent_id), "0000000000000009");
  const char* names[] = {"decode", "queue", "compute", "encode"};
  for (int i = 0; i < 4; ++i) {
    const Span& s = trace.spans[i + 1];
    EXPECT_EQ(s.name, names[i]);
    EXPECT_EQ(s.parent_id, trace.spans[0].span_id);
    EXPECT_GE(s.start_unix_ns, trace.spans[0].start_unix_ns);
    EXPECT_LE(s.end_unix_ns, trace.spans[0].end_unix_ns);
  }
  EXPECT_EQ(trace.spans[2].end_unix_ns - trace.spans[2].start_unix_ns, 1'000u);  // queue
  EXPECT_EQ(trace.spans[3].start_unix_ns, trace.spans[2].end_unix_ns);  // compute follows
}

TEST(OtlpJson, HasTheExportTraceServiceRequestShape) {
  const Trace trace = SampleTrace();
  const json doc = json::parse(OtlpJson({trace}, "inferd"));
  const json& rs = doc.at("resourceSpans").at(0);
  EXPECT_EQ(rs.at("resource").at("attributes").at(0).at("value").at("stringValue"), "inferd");
  const json& spans = rs.at("scopeSpans").at(0).at("spans");
  ASSERT_EQ(spans.size(), 5u);
  EXPECT_EQ(spans[0].at("traceId"), ToHex(trace.trace_id));
  EXPECT_EQ(spans[0].at("kind"), 2);
  EXPECT_EQ(spans[0].at("startTimeUnixNano"), "1000000");
  EXPECT_EQ(spans[1].at("parentSpanId"), ToHex(trace.spans[0].span_id));
  EXPECT_EQ(spans[0].at("spanId").get<std::string>().size(), 16u);
}

TEST(Tracer, SamplingFollowsTheParentThenTheRate) {
  auto none = Tracer::Create(Opts(0));
  ASSERT_TRUE(none.ok());
  TraceParent sampled;
  sampled.sampled = true;
  TraceParent unsampled;
  EXPECT_FALSE((*none)->ShouldSample(std::nullopt));
  EXPECT_TRUE((*none)->ShouldSample(sampled));
  auto all = Tracer::Create(Opts(1));
  EXPECT_TRUE((*all)->ShouldSample(std::nullopt));
  EXPECT_FALSE((*all)->ShouldSample(unsampled));
  EXPECT_FALSE(Tracer::Create(Opts(1.5)).ok());
  EXPECT_FALSE((*all)->SetSampleRate(-0.1).ok());
}

TEST(Tracer, WritesOtlpJsonLinesToAFile) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("inferd_tracer_test_" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(path);
  {
    auto tracer = Tracer::Create(Opts(1, path.string()));
    ASSERT_TRUE(tracer.ok());
    (*tracer)->Export(SampleTrace());
    (*tracer)->Export(SampleTrace());
    (*tracer)->Flush();
    EXPECT_EQ((*tracer)->exported(), 2u);
  }
  std::ifstream in(path);
  size_t spans = 0;
  for (std::string line; std::getline(in, line);) {
    spans += json::parse(line).at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").size();
  }
  EXPECT_EQ(spans, 10u);
  std::filesystem::remove(path);
}

TEST(Tracer, RejectsAnEndpointThatIsNotHttp) {
  EXPECT_FALSE(Tracer::Create(Opts(0, "", "https://collector/v1/traces")).ok());
  EXPECT_TRUE(Tracer::Create(Opts(0, "", "http://127.0.0.1:4318/v1/traces")).ok());
}

}  // namespace
}  // namespace inferd::observability
