// json_decode_bench: MB/s of the v2 JSON request decoder (src/protocol) on a 1 MB FP32 tensor
// (262144 floats written as JSON numbers, ~2.9 MB of text), and of the binary extension's
// borrow-only path on the same tensor, for contrast. Google Benchmark; bytes/s counts the bytes
// of the request body the server would receive.
#include <memory>
#include <random>
#include <string>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "protocol/json_text.h"
#include "protocol/v2_json_codec.h"

namespace {

constexpr size_t kElements = (1u << 20) / sizeof(float);  // a 1 MiB FP32 tensor

std::shared_ptr<std::string> JsonBody() {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  auto body = std::make_shared<std::string>(fmt::format(
      R"({{"inputs":[{{"name":"x","datatype":"FP32","shape":[1,{}],"data":[)", kElements));
  for (size_t i = 0; i < kElements; ++i) {
    if (i > 0) *body += ',';
    inferd::protocol::AppendJsonFloat(*body, dist(rng));
  }
  *body += "]}]}";
  body->reserve(body->size() + inferd::protocol::kRequestBodyPadding);
  return body;
}

void BM_DecodeJsonFp32_1MB(benchmark::State& state) {
  std::shared_ptr<const std::string> body = JsonBody();
  for (auto _ : state) {
    auto request = inferd::protocol::DecodeInferRequest(body, std::nullopt);
    if (!request.ok()) state.SkipWithError(request.status().message().c_str());
    benchmark::DoNotOptimize(request);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body->size()));
  state.counters["body_bytes"] = static_cast<double>(body->size());
}
BENCHMARK(BM_DecodeJsonFp32_1MB)->Unit(benchmark::kMillisecond);

void BM_DecodeBinaryFp32_1MB(benchmark::State& state) {
  const std::string header = fmt::format(
      R"({{"inputs":[{{"name":"x","datatype":"FP32","shape":[1,{}],)"
      R"("parameters":{{"binary_data_size":{}}}}}]}})",
      kElements, kElements * sizeof(float));
  auto body = std::make_shared<std::string>(header);
  body->append(kElements * sizeof(float), '\0');
  body->reserve(body->size() + inferd::protocol::kRequestBodyPadding);
  std::shared_ptr<const std::string> shared = body;
  for (auto _ : state) {
    auto request = inferd::protocol::DecodeInferRequest(shared, header.size());
    if (!request.ok()) state.SkipWithError(request.status().message().c_str());
    benchmark::DoNotOptimize(request);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * shared->size()));
}
BENCHMARK(BM_DecodeBinaryFp32_1MB)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
