// ort_raw_bench: the engine limit. Runs an ONNX model in-process with ONNX Runtime — no server,
// no protocol, no copies beyond ORT's own — at each requested batch size for a fixed time, and
// prints inferences/s and the latency of one Run() as JSON. Session options match inferd's
// defaults (intra-op threads = cores, inter-op 1, spinning off, all graph optimizations), so
// inferd ÷ this measures what serving costs. Inputs are random FP32/INT64 values; the model's
// variable dims become the batch size (first) and 1 (others).
//
//   ort_raw_bench --model examples/models/mlp/1/model.onnx --batch 1,64 --duration 3
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <onnxruntime_cxx_api.h>

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string model;
  std::vector<int64_t> batches{1};
  double duration_s = 3;
  int intra_threads = 0;
};

bool ParseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") {
      a.model = v;
    } else if (k == "--duration") {
      a.duration_s = std::atof(v.c_str());
    } else if (k == "--intra-op-threads") {
      a.intra_threads = std::atoi(v.c_str());
    } else if (k == "--batch") {
      a.batches.clear();
      for (size_t s = 0; s <= v.size();) {
        size_t e = v.find(',', s);
        if (e == std::string::npos) e = v.size();
        a.batches.push_back(std::atoll(v.substr(s, e - s).c_str()));
        s = e + 1;
      }
    } else {
      return false;
    }
  }
  return !a.model.empty() && a.duration_s > 0 &&
         std::all_of(a.batches.begin(), a.batches.end(), [](int64_t b) { return b > 0; });
}

// Random input tensors for one batch size; `storage` owns their bytes.
std::vector<Ort::Value> MakeInputs(Ort::Session& session, int64_t batch,
                                   std::vector<std::vector<std::byte>>& storage) {
  Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<Ort::Value> values;
  storage.clear();
  storage.reserve(session.GetInputCount());
  for (size_t i = 0; i < session.GetInputCount(); ++i) {
    Ort::TypeInfo type_info = session.GetInputTypeInfo(i);  // owns what `info` views
    auto info = type_info.GetTensorTypeAndShapeInfo();
    std::vector<int64_t> shape = info.GetShape();
    bool first = true;
    for (int64_t& d : shape) {
      if (d < 0) d = first ? batch : 1;
      first = false;
    }
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    const auto type = info.GetElementType();
    if (type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
      storage.emplace_back(static_cast<size_t>(n) * sizeof(float));
      auto* p = reinterpret_cast<float*>(storage.back().data());
      for (int64_t k = 0; k < n; ++k) p[k] = unit(rng);
      values.push_back(Ort::Value::CreateTensor<float>(mem, p, static_cast<size_t>(n),
                                                       shape.data(), shape.size()));
    } else if (type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64) {
      storage.emplace_back(static_cast<size_t>(n) * sizeof(int64_t));
      auto* p = reinterpret_cast<int64_t*>(storage.back().data());
      for (int64_t k = 0; k < n; ++k) p[k] = static_cast<int64_t>(rng() % 100);
      values.push_back(Ort::Value::CreateTensor<int64_t>(mem, p, static_cast<size_t>(n),
                                                         shape.data(), shape.size()));
    } else {
      std::fprintf(stderr, "ort_raw_bench: input %zu: only FP32 and INT64 inputs are supported\n",
                   i);
      std::exit(2);
    }
  }
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, args)) {
    std::fprintf(stderr,
                 "usage: ort_raw_bench --model FILE.onnx [--batch 1,64] [--duration S] "
                 "[--intra-op-threads N]\n");
    return 2;
  }
  try {
    Ort::Env env(ORT_LOGGING_LEVEL_WARNING, "ort_raw_bench");
    Ort::SessionOptions so;
    const int intra = args.intra_threads > 0
                          ? args.intra_threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    so.SetIntraOpNumThreads(intra);
    so.SetInterOpNumThreads(1);
    so.SetExecutionMode(ORT_SEQUENTIAL);
    so.AddConfigEntry("session.intra_op.allow_spinning", "0");
    so.AddConfigEntry("session.inter_op.allow_spinning", "0");
    so.SetGraphOptimizationLevel(ORT_ENABLE_ALL);
    Ort::Session session(env, args.model.c_str(), so);

    Ort::AllocatorWithDefaultOptions alloc;
    std::vector<Ort::AllocatedStringPtr> name_holders;
    std::vector<const char*> in_names, out_names;
    for (size_t i = 0; i < session.GetInputCount(); ++i) {
      name_holders.push_back(session.GetInputNameAllocated(i, alloc));
      in_names.push_back(name_holders.back().get());
    }
    for (size_t i = 0; i < session.GetOutputCount(); ++i) {
      name_holders.push_back(session.GetOutputNameAllocated(i, alloc));
      out_names.push_back(name_holders.back().get());
    }

    std::printf("{\"model\": \"%s\", \"intra_op_threads\": %d, \"levels\": [", args.model.c_str(),
                intra);
    for (size_t b = 0; b < args.batches.size(); ++b) {
      const int64_t batch = args.batches[b];
      std::vector<std::vector<std::byte>> storage;
      std::vector<Ort::Value> inputs = MakeInputs(session, batch, storage);
      auto run = [&] {
        return session.Run(Ort::RunOptions{nullptr}, in_names.data(), inputs.data(),
                           inputs.size(), out_names.data(), out_names.size());
      };
      for (int i = 0; i < 20; ++i) run();  // warm-up: first runs allocate and pick kernels
      std::vector<double> latencies_us;
      const auto start = Clock::now();
      const auto end = start + std::chrono::duration<double>(args.duration_s);
      Clock::time_point now = start;
      while (now < end) {
        const auto t0 = Clock::now();
        auto outputs = run();
        now = Clock::now();
        latencies_us.push_back(std::chrono::duration<double, std::micro>(now - t0).count());
      }
      const double secs = std::chrono::duration<double>(now - start).count();
      std::sort(latencies_us.begin(), latencies_us.end());
      auto pct = [&](double p) {
        size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * latencies_us.size()));
        return latencies_us[std::clamp<size_t>(rank, 1, latencies_us.size()) - 1];
      };
      const double runs = static_cast<double>(latencies_us.size());
      std::printf("%s\n  {\"batch\": %lld, \"runs\": %.0f, \"runs_per_s\": %.1f, "
                  "\"inferences_per_s\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f}",
                  b == 0 ? "" : ",", static_cast<long long>(batch), runs, runs / secs,
                  runs * static_cast<double>(batch) / secs, pct(50), pct(99));
    }
    std::printf("\n]}\n");
  } catch (const Ort::Exception& e) {
    std::fprintf(stderr, "ort_raw_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
