#include "optimize/ort_evaluator.h"

#include <fmt/format.h>
#include <onnxruntime_cxx_api.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace inferd::optimize {

struct OrtEvaluator::Impl {
  Options options;
  Ort::Env env{ORT_LOGGING_LEVEL_ERROR, "inferd-optimize"};

  Ort::SessionOptions SessionOptions() const {
    Ort::SessionOptions so;
    so.SetIntraOpNumThreads(options.intra_op_threads);
    so.SetInterOpNumThreads(1);
    so.SetExecutionMode(ORT_SEQUENTIAL);
    return so;
  }
};

class OrtEvaluator::Session {
 public:
  explicit Session(Ort::Session session) : session_(std::move(session)) {
    Ort::AllocatorWithDefaultOptions allocator;
    for (size_t i = 0; i < session_.GetInputCount(); ++i) {
      inputs_.push_back(session_.GetInputNameAllocated(i, allocator).get());
    }
    output_ = session_.GetOutputNameAllocated(0, allocator).get();
  }
  Ort::Session session_;
  std::vector<std::string> inputs_;
  std::string output_;
};

OrtEvaluator::OrtEvaluator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OrtEvaluator::~OrtEvaluator() = default;

Result<std::unique_ptr<OrtEvaluator>> OrtEvaluator::Create(const Options& options) {
  try {
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    return std::unique_ptr<OrtEvaluator>(new OrtEvaluator(std::move(impl)));
  } catch (const Ort::Exception& e) {
    return Internal(fmt::format("ONNX Runtime: {}", e.what()));
  }
}

Result<std::string> OrtEvaluator::OptimizeGraph(const std::string& model_bytes, GraphLevel level) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dir = fs::temp_directory_path(ec);
  if (ec) return Internal(fmt::format("no temporary directory: {}", ec.message()));
  char name[] = "inferd-optimize-XXXXXX";
  const fs::path pattern = dir / name;
  std::string path_text = pattern.string();
  const int fd = mkstemp(path_text.data());
  if (fd < 0) return Internal("cannot create a temporary file for ORT's optimized graph");
  ::close(fd);
  try {
    Ort::SessionOptions so = impl_->SessionOptions();
    so.SetGraphOptimizationLevel(level == GraphLevel::kBasic ? ORT_ENABLE_BASIC
                                                             : ORT_ENABLE_EXTENDED);
    so.SetOptimizedModelFilePath(path_text.c_str());
    Ort::Session session(impl_->env, model_bytes.data(), model_bytes.size(), so);
  } catch (const Ort::Exception& e) {
    fs::remove(path_text, ec);
    return InvalidArgument(fmt::format("ONNX Runtime: {}", e.what()));
  }
  std::ifstream in(path_text, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  fs::remove(path_text, ec);
  if (bytes.str().empty()) return Internal("ONNX Runtime wrote no optimized graph");
  return bytes.str();
}

Result<std::shared_ptr<OrtEvaluator::Session>> OrtEvaluator::Load(const std::string& model_bytes) {
  try {
    Ort::SessionOptions so = impl_->SessionOptions();
    so.SetGraphOptimizationLevel(ORT_ENABLE_ALL);
    return std::make_shared<Session>(
        Ort::Session(impl_->env, model_bytes.data(), model_bytes.size(), so));
  } catch (const Ort::Exception& e) {
    return InvalidArgument(fmt::format("ONNX Runtime cannot load it: {}", e.what()));
  }
}

namespace {

// Runs samples [begin, begin+n) of the set and returns the session's first output.
Result<Ort::Value> RunSlice(Ort::Session& session, const std::vector<std::string>& names,
                            const std::string& output, const EvalSet& set, int64_t begin,
                            int64_t n) {
  auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  std::vector<Ort::Value> values;
  std::vector<const char*> input_names;
  for (const auto& name : names) {
    size_t k = 0;
    while (k < set.inputs.size() && set.inputs[k].name != name) ++k;
    if (k == set.inputs.size()) {
      return InvalidArgument(fmt::format("the eval set has no input '{}'", name));
    }
    const ModelInput& mi = set.inputs[k];
    std::vector<int64_t> shape{n};
    shape.insert(shape.end(), mi.sample_shape.begin(), mi.sample_shape.end());
    float* data = const_cast<float*>(set.data[k].data()) + begin * mi.sample_size();
    values.push_back(Ort::Value::CreateTensor<float>(memory, data, n * mi.sample_size(),
                                                     shape.data(), shape.size()));
    input_names.push_back(name.c_str());
  }
  const char* out_name = output.c_str();
  try {
    auto outs = session.Run(Ort::RunOptions{nullptr}, input_names.data(), values.data(),
                            values.size(), &out_name, 1);
    return std::move(outs[0]);
  } catch (const Ort::Exception& e) {
    return InvalidArgument(fmt::format("ONNX Runtime run: {}", e.what()));
  }
}

}  // namespace

Result<OrtEvaluator::Outputs> OrtEvaluator::Predict(Session& s, const EvalSet& set, int64_t batch) {
  Outputs out;
  for (int64_t begin = 0; begin < set.count; begin += batch) {
    const int64_t n = std::min(batch, set.count - begin);
    ASSIGN_OR_RETURN(Ort::Value value, RunSlice(s.session_, s.inputs_, s.output_, set, begin, n));
    auto info = value.GetTensorTypeAndShapeInfo();
    if (info.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
      return Unimplemented(fmt::format("output '{}' is not FLOAT", s.output_));
    }
    const size_t total = info.GetElementCount();
    if (total % n != 0) {
      return Unimplemented(fmt::format("output '{}' has no batch dimension", s.output_));
    }
    out.width = static_cast<int64_t>(total) / n;
    const float* p = value.GetTensorData<float>();
    out.values.insert(out.values.end(), p, p + total);
  }
  return out;
}

Result<double> OrtEvaluator::SamplesPerSecond(Session& s, const EvalSet& set, int64_t batch,
                                              int64_t min_microseconds) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  int64_t samples = 0;
  for (;;) {
    for (int64_t begin = 0; begin < set.count; begin += batch) {
      const int64_t n = std::min(batch, set.count - begin);
      ASSIGN_OR_RETURN(Ort::Value value, RunSlice(s.session_, s.inputs_, s.output_, set, begin, n));
      samples += n;
    }
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    if (elapsed >= min_microseconds) return static_cast<double>(samples) * 1e6 / elapsed;
  }
}

}  // namespace inferd::optimize
