// Response cache benchmark: what a cache hit costs next to a miss that runs the model.
//   cache_key/<bytes>      hashing a request into its cache key
//   cache_lookup_hit       ResponseCache::Lookup of a stored 1 KiB answer
//   infer_cache_hit        InferenceServer::Infer answered from the cache (no scheduler)
//   infer_cache_miss       the same request with new bytes every time: lookup, run, insert
//   infer_no_cache         the same model with the cache off
// The facade benchmarks need a test model repository (python3 scripts/make_models.py --test
// DIR); pass it as INFERD_BENCH_MODELS=DIR, or they are skipped.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <vector>

#include "cache/cache_key.h"
#include "cache/response_cache.h"
#include "server/inference_server.h"

namespace {

using namespace inferd;
namespace fs = std::filesystem;

constexpr int kFloats = 256;  // a [1, 256] FP32 tensor: 1 KiB in, 1 KiB out

InferenceRequest MakeRequest(float first, int floats = kFloats) {
  InferenceRequest r;
  r.model_name = "cached";
  Tensor t("INPUT0", DataType::kFp32, {1, floats});
  auto bytes = t.AllocateData(floats * sizeof(float));
  std::vector<float> values(floats, 0.5f);
  values[0] = first;
  std::memcpy(bytes.data(), values.data(), bytes.size());
  r.inputs.push_back(std::move(t));
  return r;
}

void CacheKey(benchmark::State& state) {
  const InferenceRequest r = MakeRequest(1, static_cast<int>(state.range(0) / sizeof(float)));
  for (auto _ : state) benchmark::DoNotOptimize(cache::ComputeCacheKey(r, 1));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(CacheKey)->Name("cache_key")->Arg(64)->Arg(4 << 10)->Arg(256 << 10);

void CacheLookupHit(benchmark::State& state) {
  auto cache = std::move(cache::ResponseCache::Create({.capacity_bytes = 1 << 20})).value();
  const cache::CacheKey key = cache::ComputeCacheKey(MakeRequest(1), 1);
  InferenceResponse response;
  Tensor out("OUTPUT0", DataType::kFp32, {1, kFloats});
  out.AllocateData(kFloats * sizeof(float));
  response.outputs.push_back(out);
  cache->Insert(key, response);
  for (auto _ : state) benchmark::DoNotOptimize(cache->Lookup(key));
}
BENCHMARK(CacheLookupHit)->Name("cache_lookup_hit");

// A repository with the identity model twice: `cached` (response_cache on) and `plain`.
std::unique_ptr<server::InferenceServer> MakeServer() {
  const char* models = std::getenv("INFERD_BENCH_MODELS");
  if (models == nullptr) return nullptr;
  const fs::path root = fs::temp_directory_path() / "inferd_cache_bench";
  for (const char* name : {"cached", "plain"}) {
    fs::create_directories(root / name / "1");
    fs::copy_file(fs::path(models) / "identity_fp32" / "1" / "model.onnx",
                  root / name / "1" / "model.onnx", fs::copy_options::overwrite_existing);
    std::ofstream(root / name / "config.pbtxt")
        << "name: \"" << name << "\" platform: \"onnxruntime_onnx\" max_batch_size: 8\n"
        << "input { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ -1 ] }\n"
        << "output { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ -1 ] }\n"
        << (std::string(name) == "cached" ? "response_cache { enable: true }\n" : "");
  }
  server::InferenceServer::Options options;
  options.model_repository = root;
  options.cache_size_bytes = 64 << 20;
  auto created = server::InferenceServer::Create(options);
  return created.ok() ? std::move(created).value() : nullptr;
}

server::InferenceServer* Server() {
  static std::unique_ptr<server::InferenceServer> server = MakeServer();
  return server.get();
}

void InferOnce(server::InferenceServer* s, InferenceRequest r) {
  std::promise<bool> done;
  s->Infer(std::move(r), [&](Result<InferenceResponse> res) { done.set_value(res.ok()); });
  if (!done.get_future().get()) std::abort();
}

void InferCacheHit(benchmark::State& state) {
  if (!Server()) return state.SkipWithError("set INFERD_BENCH_MODELS to a test model repository");
  InferOnce(Server(), MakeRequest(-1));  // fill
  for (auto _ : state) InferOnce(Server(), MakeRequest(-1));
}
BENCHMARK(InferCacheHit)->Name("infer_cache_hit")->UseRealTime();

void InferCacheMiss(benchmark::State& state) {
  if (!Server()) return state.SkipWithError("set INFERD_BENCH_MODELS to a test model repository");
  float next = 0;
  for (auto _ : state) InferOnce(Server(), MakeRequest(next++));
}
BENCHMARK(InferCacheMiss)->Name("infer_cache_miss")->UseRealTime();

void InferNoCache(benchmark::State& state) {
  if (!Server()) return state.SkipWithError("set INFERD_BENCH_MODELS to a test model repository");
  for (auto _ : state) {
    InferenceRequest r = MakeRequest(1);
    r.model_name = "plain";
    InferOnce(Server(), std::move(r));
  }
}
BENCHMARK(InferNoCache)->Name("infer_no_cache")->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
