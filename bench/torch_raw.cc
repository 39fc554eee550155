// torch_raw_bench: the TorchScript engine limit. Runs a TorchScript model in-process with
// libtorch — no server, no protocol — at each requested batch size for a fixed time, and prints
// runs/s, inferences/s and the latency of one forward() as JSON (the shape of ort_raw_bench's).
// Settings match inferd's pytorch backend defaults: intra-op threads = cores (one instance),
// one inter-op thread, InferenceMode, the profiling executor warmed up before timing. The model
// takes one FP32 input [batch, <dims>]; inferd ÷ this is what serving the model costs.
//
//   torch_raw_bench --model examples/models/mlp_torch/1/model.pt --dims 64 --batch 1,64
#include <ATen/Parallel.h>
#include <ATen/core/ivalue.h>  // before torch/script.h: clang needs IValue complete first
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::vector<int64_t> ParseList(const std::string& v) {
  std::vector<int64_t> out;
  for (size_t s = 0; s <= v.size();) {
    size_t e = v.find(',', s);
    if (e == std::string::npos) e = v.size();
    out.push_back(std::atoll(v.substr(s, e - s).c_str()));
    s = e + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model;
  std::vector<int64_t> dims{64}, batches{1};
  double duration_s = 3;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") {
      model = v;
    } else if (k == "--dims") {
      dims = ParseList(v);
    } else if (k == "--batch") {
      batches = ParseList(v);
    } else if (k == "--duration") {
      duration_s = std::atof(v.c_str());
    } else if (k == "--intra-op-threads") {
      threads = std::atoi(v.c_str());
    } else {
      model.clear();
      break;
    }
  }
  if (model.empty() || duration_s <= 0) {
    std::fprintf(stderr,
                 "usage: torch_raw_bench --model M.pt [--dims 64] [--batch 1,64] "
                 "[--duration S] [--intra-op-threads N]\n");
    return 2;
  }
  try {
    at::set_num_interop_threads(1);
    at::set_num_threads(threads);
    torch::jit::Module module = torch::jit::load(model);
    module.eval();
    std::printf("{\"model\": \"%s\", \"intra_op_threads\": %d, \"levels\": [", model.c_str(),
                threads);
    const char* sep = "";
    for (int64_t batch : batches) {
      std::vector<int64_t> shape{batch};
      shape.insert(shape.end(), dims.begin(), dims.end());
      torch::Tensor x = torch::rand(shape);
      c10::InferenceMode guard;
      auto run = [&] { return module.forward({x}); };
      for (int i = 0; i < 20; ++i) run();  // profiling executor: optimize before timing
      std::vector<double> lat_us;
      const auto end = Clock::now() + std::chrono::duration<double>(duration_s);
      const auto start = Clock::now();
      while (Clock::now() < end) {
        const auto t0 = Clock::now();
        run();
        lat_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
      const double secs = std::chrono::duration<double>(Clock::now() - start).count();
      std::sort(lat_us.begin(), lat_us.end());
      const double runs = static_cast<double>(lat_us.size());
      std::printf(
          "%s\n  {\"batch\": %lld, \"runs\": %.0f, \"runs_per_s\": %.1f, "
          "\"inferences_per_s\": %.1f, \"latency_us\": {\"p50\": %.2f, \"p99\": %.2f}}",
          sep, static_cast<long long>(batch), runs, runs / secs, runs * batch / secs,
          lat_us[lat_us.size() / 2], lat_us[lat_us.size() * 99 / 100]);
      sep = ",";
    }
    std::printf("\n]}\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torch_raw_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
