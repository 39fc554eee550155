#include "backends/onnxruntime/onnxruntime_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "config/model_config_parser.h"

namespace inferd::backends {
namespace {

std::filesystem::path SourcePath(const std::string& relative) {
  const char* root = std::getenv("INFERD_SOURCE_DIR");
  return std::filesystem::path(root ? root : ".") / relative;
}

std::filesystem::path ExampleModel(const std::string& name) {
  return SourcePath("examples/models/" + name + "/1/model.onnx");
}

// A model file of tests/backends/onnxruntime/testdata/.
std::filesystem::path TestdataModel(const std::string& file) {
  return SourcePath("tests/backends/onnxruntime/testdata/" + file);
}

class OnnxRuntimeBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = CreateOnnxRuntimeBackend();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend_ = std::move(b).value();
  }
  std::unique_ptr<Backend> backend_;
};

Tensor Fp32(const std::string& name, Shape shape, float start) {
  Tensor t(name, DataType::kFp32, std::move(shape));
  auto bytes = t.AllocateData(static_cast<size_t>(t.element_count()) * sizeof(float));
  auto* f = reinterpret_cast<float*>(bytes.data());
  for (int64_t i = 0; i < t.element_count(); ++i) f[i] = start + static_cast<float>(i);
  return t;
}

TEST_F(OnnxRuntimeBackendTest, ReportsTheModelSignature) {
  auto inst = backend_->CreateInstance(ExampleModel("simple"), {}, {1, 1});
  ASSERT_TRUE(inst.ok()) << inst.status().ToString();
  const auto& sig = (*inst)->signature();
  ASSERT_EQ(sig.inputs.size(), 2u);
  EXPECT_EQ(sig.inputs[0].name, "INPUT0");
  EXPECT_EQ(sig.inputs[0].dtype, DataType::kFp32);
  EXPECT_EQ(sig.inputs[0].dims, (std::vector<int64_t>{-1, 16}));
  ASSERT_EQ(sig.outputs.size(), 2u);
  EXPECT_EQ(sig.outputs[1].name, "OUTPUT1");
}

TEST_F(OnnxRuntimeBackendTest, ExecutesAndReturnsTheRequestedOutputsInOrder) {
  auto inst = backend_->CreateInstance(ExampleModel("simple"), {}, {1, 1});
  ASSERT_TRUE(inst.ok());
  std::vector<Tensor> inputs = {Fp32("INPUT0", {2, 16}, 10), Fp32("INPUT1", {2, 16}, 0)};
  std::vector<std::string> outputs = {"OUTPUT1", "OUTPUT0"};
  backends::ExecutionTimings timings;
  auto r = (*inst)->Execute(inputs, outputs, &timings);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(timings.infer_ns, 0u);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name(), "OUTPUT1");
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 16}));
  for (float v : (*r)[0].As<float>()) EXPECT_FLOAT_EQ(v, 10.0f);  // (10+i) - i
  auto sum = (*r)[1].As<float>();
  EXPECT_FLOAT_EQ(sum[31], 10.0f + 31 + 31);
}

// Small inputs are copied into a value the instance reuses; each call must still see its own
// bytes, and an earlier call's outputs must keep theirs.
TEST_F(OnnxRuntimeBackendTest, ReusedInputValuesCarryEachCallsBytes) {
  auto inst = backend_->CreateInstance(ExampleModel("simple"), {}, {1, 1});
  ASSERT_TRUE(inst.ok());
  std::vector<std::string> outputs = {"OUTPUT0"};
  std::vector<Tensor> first = {Fp32("INPUT0", {1, 16}, 1), Fp32("INPUT1", {1, 16}, 0)};
  auto r1 = (*inst)->Execute(first, outputs, nullptr);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  std::vector<Tensor> second = {Fp32("INPUT0", {1, 16}, 100), Fp32("INPUT1", {1, 16}, 0)};
  auto r2 = (*inst)->Execute(second, outputs, nullptr);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  std::vector<Tensor> wider = {Fp32("INPUT0", {2, 16}, 7), Fp32("INPUT1", {2, 16}, 0)};
  auto r3 = (*inst)->Execute(wider, outputs, nullptr);
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  EXPECT_FLOAT_EQ((*r1)[0].As<float>()[15], 1.0f + 15 + 15);  // INPUT0 + INPUT1
  EXPECT_FLOAT_EQ((*r2)[0].As<float>()[15], 100.0f + 15 + 15);
  ASSERT_EQ((*r3)[0].shape(), (Shape{2, 16}));
  EXPECT_FLOAT_EQ((*r3)[0].As<float>()[31], 7.0f + 31 + 31);
}

// A graph output that is the graph input itself comes back from ORT as the input's value; the
// output must not keep pointing into the reused input buffer the next call overwrites. The
// Identity output (fixed [1,4]) is written into a reused output buffer from the second call
// on; each call's answer must still be its own. testdata/passthrough.onnx (135 bytes, made
// with python3-onnx's helper.make_graph, opset 13): input INPUT0 FP32 [1,4]; outputs INPUT0
// (the input itself, no node) and IDENTITY0 = Identity(INPUT0), both declared [1,4].
TEST_F(OnnxRuntimeBackendTest, ReusedInputAndOutputBuffersKeepEachCallsBytes) {
  auto inst = backend_->CreateInstance(TestdataModel("passthrough.onnx"), {}, {1, 1});
  ASSERT_TRUE(inst.ok()) << inst.status().ToString();
  std::vector<std::string> outputs = {"INPUT0", "IDENTITY0"};
  std::vector<Tensor> first = {Fp32("INPUT0", {1, 4}, 1)};
  auto r1 = (*inst)->Execute(first, outputs, nullptr);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  std::vector<Tensor> second = {Fp32("INPUT0", {1, 4}, 50)};
  auto r2 = (*inst)->Execute(second, outputs, nullptr);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  std::vector<Tensor> third = {Fp32("INPUT0", {1, 4}, -3)};
  auto r3 = (*inst)->Execute(third, outputs, nullptr);
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  for (const auto& out : *r1) EXPECT_THAT(out.As<float>(), ::testing::ElementsAre(1, 2, 3, 4));
  for (const auto& out : *r2) {
    EXPECT_THAT(out.As<float>(), ::testing::ElementsAre(50, 51, 52, 53));
  }
  for (const auto& out : *r3) {
    EXPECT_EQ(out.shape(), (Shape{1, 4}));
    EXPECT_THAT(out.As<float>(), ::testing::ElementsAre(-3, -2, -1, 0));
  }
  // More answers held at once than the instance keeps buffers for: each keeps its own bytes.
  std::vector<std::vector<Tensor>> held;
  for (int i = 0; i < 8; ++i) {
    std::vector<Tensor> in = {Fp32("INPUT0", {1, 4}, static_cast<float>(10 * i))};
    auto r = (*inst)->Execute(in, outputs, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    held.push_back(std::move(r).value());
  }
  for (int i = 0; i < 8; ++i) {
    const float f = static_cast<float>(10 * i);
    for (const auto& out : held[i]) {
      EXPECT_THAT(out.As<float>(), ::testing::ElementsAre(f, f + 1, f + 2, f + 3)) << i;
    }
  }
}

// Steady runs (every input and output on a reused value) go through an IoBinding over those
// values, bound by input name: inputs sent in another order, other outputs or other shapes
// must each still get their own answer. testdata/sub_fixed.onnx (102 bytes, python3-onnx,
// opset 13): inputs A and B FP32 [1,4]; output DIFF = A - B, declared [1,4].
TEST_F(OnnxRuntimeBackendTest, BoundSteadyRunsFollowInputOrderAndValues) {
  auto inst = backend_->CreateInstance(TestdataModel("sub_fixed.onnx"), {}, {1, 1});
  ASSERT_TRUE(inst.ok()) << inst.status().ToString();
  const std::vector<std::string> outputs = {"DIFF"};
  for (int i = 0; i < 4; ++i) {  // the first run sizes the reused values; the rest are bound
    const float a = static_cast<float>(10 * i);
    std::vector<Tensor> ab = {Fp32("A", {1, 4}, a), Fp32("B", {1, 4}, 1)};
    auto r = (*inst)->Execute(ab, outputs, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_THAT((*r)[0].As<float>(), ::testing::Each(a - 1)) << i;
    std::vector<Tensor> ba = {Fp32("B", {1, 4}, 1), Fp32("A", {1, 4}, a + 5)};
    r = (*inst)->Execute(ba, outputs, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_THAT((*r)[0].As<float>(), ::testing::Each(a + 4)) << i;
  }
  // A failed run (a shape the model does not take) drops the binding; the next ones still work.
  std::vector<Tensor> wrong = {Fp32("A", {1, 5}, 0), Fp32("B", {1, 5}, 0)};
  EXPECT_FALSE((*inst)->Execute(wrong, outputs, nullptr).ok());
  for (int i = 0; i < 3; ++i) {
    std::vector<Tensor> ab = {Fp32("A", {1, 4}, 3), Fp32("B", {1, 4}, static_cast<float>(i))};
    auto r = (*inst)->Execute(ab, outputs, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_THAT((*r)[0].As<float>(), ::testing::Each(3.0f - static_cast<float>(i))) << i;
  }
}

// An output whose declared shape has a symbolic dim (a batch dim) is preallocated like a
// fixed one once inputs of the same shapes come again; a new batch size sizes it again, sizes
// that alternate keep a set of values each (four; a fifth evicts the least recently used), and
// every answer keeps its own bytes. testdata/add_batched.onnx (135 bytes, python3-onnx,
// opset 13): inputs A and B FP32 [batch,4]; output SUM = A + B, declared [batch,4].
TEST_F(OnnxRuntimeBackendTest, OutputsWithABatchDimAreReusedAndResizedWithTheBatch) {
  auto inst = backend_->CreateInstance(TestdataModel("add_batched.onnx"), {}, {1, 1});
  ASSERT_TRUE(inst.ok()) << inst.status().ToString();
  const std::vector<std::string> outputs = {"SUM"};
  std::vector<std::vector<Tensor>> held;
  const std::vector<int64_t> batches = {1, 1, 1, 3, 3, 1, 3, 1, 2, 2, 4, 5, 1, 5, 3, 2, 1, 2};
  for (size_t i = 0; i < batches.size(); ++i) {
    const float a = static_cast<float>(100 * i);
    std::vector<Tensor> ab = {Fp32("A", {batches[i], 4}, a), Fp32("B", {batches[i], 4}, 0)};
    auto r = (*inst)->Execute(ab, outputs, nullptr);
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
    held.push_back(std::move(r).value());
  }
  for (size_t i = 0; i < batches.size(); ++i) {
    const Tensor& sum = held[i][0];
    ASSERT_EQ(sum.shape(), (Shape{batches[i], 4})) << i;
    const auto values = sum.As<float>();
    for (size_t k = 0; k < values.size(); ++k) {
      EXPECT_FLOAT_EQ(values[k], static_cast<float>(100 * i + 2 * k)) << i << "," << k;
    }
  }
}

// An output whose shape depends on the inputs' values, not only their shapes (NonZero): a
// run on same-shaped inputs whose answer has another shape fails against the preallocated
// output; the instance runs it again with ORT sizing the output, answers it, and stops
// preallocating such outputs. testdata/nonzero.onnx (104 bytes, python3-onnx, opset 13):
// input X FP32 [N]; output INDICES = NonZero(X), INT64, declared [1,nnz].
TEST_F(OnnxRuntimeBackendTest, OutputShapedByInputValuesIsAnsweredEveryTime) {
  auto inst = backend_->CreateInstance(TestdataModel("nonzero.onnx"), {}, {1, 1});
  ASSERT_TRUE(inst.ok()) << inst.status().ToString();
  const std::vector<std::string> outputs = {"INDICES"};
  const auto run = [&](std::vector<float> x) {
    Tensor t("X", DataType::kFp32, {static_cast<int64_t>(x.size())});
    std::memcpy(t.AllocateData(x.size() * sizeof(float)).data(), x.data(),
                x.size() * sizeof(float));
    std::vector<Tensor> in = {std::move(t)};
    return (*inst)->Execute(in, outputs, nullptr);
  };
  const std::vector<std::pair<std::vector<float>, std::vector<int64_t>>> cases = {
      {{1, 0, 1, 0}, {0, 2}}, {{0, 5, 0, 7}, {1, 3}}, {{1, 1, 1, 0}, {0, 1, 2}},
      {{0, 0, 0, 1}, {3}},    {{2, 0, 0, 2}, {0, 3}}, {{2, 0, 0, 2}, {0, 3}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto r = run(cases[i].first);
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
    const Tensor& indices = (*r)[0];
    EXPECT_EQ(indices.shape(), (Shape{1, static_cast<int64_t>(cases[i].second.size())})) << i;
    EXPECT_THAT(indices.As<int64_t>(), ::testing::ElementsAreArray(cases[i].second)) << i;
  }
}

// An input too large to be copied into a reused buffer goes to ORT as the request's own bytes
// (borrowed), or as an aligned scratch copy when they are misaligned; a graph output that is
// that input must not point into either once the call is over: the request's bytes are reused
// for the next request on its connection, the scratch copy is freed. testdata/
// passthrough_dynamic.onnx (150 bytes, python3-onnx, opset 13): input INPUT0 FP32 [N,M];
// outputs INPUT0 itself and IDENTITY0 = Identity(INPUT0).
TEST_F(OnnxRuntimeBackendTest, BorrowedInputPassedThroughIsCopiedOut) {
  auto inst = backend_->CreateInstance(TestdataModel("passthrough_dynamic.onnx"), {}, {1, 1});
  ASSERT_TRUE(inst.ok()) << inst.status().ToString();
  const std::vector<std::string> outputs = {"INPUT0", "IDENTITY0"};
  constexpr size_t kCount = 4096;  // 16 KiB
  for (const size_t offset : {size_t{0}, size_t{1}}) {  // aligned: borrowed; misaligned: scratch
    auto bytes = std::make_shared<std::vector<std::byte>>(kCount * sizeof(float) + offset);
    for (size_t i = 0; i < kCount; ++i) {
      const float f = static_cast<float>(i);
      std::memcpy(bytes->data() + offset + i * sizeof(float), &f, sizeof(float));
    }
    Tensor in("INPUT0", DataType::kFp32, {1, static_cast<int64_t>(kCount)});
    in.SetData({bytes->data() + offset, kCount * sizeof(float)}, bytes);
    std::vector<Tensor> inputs = {in};
    auto result = (*inst)->Execute(inputs, outputs, nullptr);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    // The request's bytes change (the next request on the connection) and go away, and the
    // next call (which drops the last call's scratch copies) runs on other values.
    std::fill(bytes->begin(), bytes->end(), std::byte{0xFF});
    inputs.clear();
    in = Tensor();
    bytes.reset();
    std::vector<Tensor> next = {Fp32("INPUT0", {1, static_cast<int64_t>(kCount)}, -7)};
    if (offset == 1) {  // misaligned again, so that it takes a scratch copy too
      auto other = std::make_shared<std::vector<std::byte>>(kCount * sizeof(float) + 1);
      std::memcpy(other->data() + 1, next[0].data().data(), kCount * sizeof(float));
      next[0].SetData({other->data() + 1, kCount * sizeof(float)}, other);
    }
    ASSERT_TRUE((*inst)->Execute(next, outputs, nullptr).ok());
    for (const Tensor& out : *result) {
      const auto values = out.As<float>();
      ASSERT_EQ(values.size(), kCount) << out.name();
      for (size_t i = 0; i < kCount; i += 511) {
        EXPECT_EQ(values[i], static_cast<float>(i)) << out.name() << " offset " << offset;
      }
    }
  }
}

// The engine failing on shapes the request brought (here two inputs it cannot add) is the
// client's error (HTTP 400), not the server's.
TEST_F(OnnxRuntimeBackendTest, EngineShapeErrorsBecomeInvalidArgument) {
  auto inst = backend_->CreateInstance(ExampleModel("simple"), {}, {1, 1});
  ASSERT_TRUE(inst.ok());
  std::vector<Tensor> inputs = {Fp32("INPUT0", {1, 16}, 0), Fp32("INPUT1", {1, 8}, 0)};
  std::vector<std::string> outputs = {"OUTPUT0"};
  auto r = (*inst)->Execute(inputs, outputs, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("onnxruntime"), std::string::npos);
}

TEST_F(OnnxRuntimeBackendTest, ACorruptModelFileIsALoadError) {
  auto path = std::filesystem::temp_directory_path() / "inferd_corrupt_model.onnx";
  std::ofstream(path) << "this is not an onnx model";
  auto inst = backend_->CreateInstance(path, {}, {1, 1});
  ASSERT_FALSE(inst.ok());
  EXPECT_NE(inst.status().message().find(path.string()), std::string::npos);
  std::filesystem::remove(path);
}

TEST_F(OnnxRuntimeBackendTest, RejectsAnUnknownGraphOptimizationLevel) {
  config::ModelConfig cfg;
  (*cfg.mutable_parameters())["graph_optimization_level"].set_string_value("max");
  auto inst = backend_->CreateInstance(ExampleModel("simple"), cfg, {1, 1});
  ASSERT_FALSE(inst.ok());
  EXPECT_NE(inst.status().message().find("graph_optimization_level"), std::string::npos);
}

config::ModelConfig Parse(const char* text) {
  auto c = config::ParseModelConfig(text, "test");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : config::ModelConfig();
}

// These run against the ONNX Runtime build inferd is linked with; the CI build is CPU-only, so
// asking for an accelerator is the real "provider not in this build" path.
bool BuildHas(const std::string& provider) {
  for (const auto& p : OnnxRuntimeAvailableProviders()) {
    if (p == provider) return true;
  }
  return false;
}

TEST_F(OnnxRuntimeBackendTest, ReportsTheProvidersOfTheLinkedBuild) {
  EXPECT_TRUE(BuildHas("CPUExecutionProvider"));
}

// The official CPU release inferd fetches still lists CUDAExecutionProvider and
// TensorrtExecutionProvider (their libraries load on demand), so on a machine without them the
// error comes from starting the provider; on a build that lists no CUDA it comes from the plan.
// Either way it is a load error naming CUDA and the providers the build has.
TEST_F(OnnxRuntimeBackendTest, AGpuInstanceWithoutAUsableCudaFailsNamingTheProviders) {
  InstanceOptions gpu{.intra_op_threads = 1, .inter_op_threads = 1, .on_gpu = true, .gpu_id = 0};
  auto inst = backend_->CreateInstance(ExampleModel("simple"), {}, gpu);
  if (inst.ok()) GTEST_SKIP() << "this machine runs ONNX Runtime's CUDA provider";
  EXPECT_EQ(inst.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(inst.status().message(), ::testing::HasSubstr("CUDAExecutionProvider"));
  EXPECT_THAT(inst.status().message(), ::testing::HasSubstr("CPUExecutionProvider"));
}

TEST_F(OnnxRuntimeBackendTest, ATensorRtAcceleratorWithoutAUsableTensorRtFails) {
  InstanceOptions gpu{.intra_op_threads = 1, .inter_op_threads = 1, .on_gpu = true, .gpu_id = 0};
  auto inst = backend_->CreateInstance(ExampleModel("simple"),
                                       Parse(R"(optimization { execution_accelerators {
                 gpu_execution_accelerator : [ { name : "tensorrt" } ] } })"),
                                       gpu);
  if (inst.ok()) GTEST_SKIP() << "this machine runs ONNX Runtime's TensorRT provider";
  EXPECT_EQ(inst.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(inst.status().message(), ::testing::HasSubstr("TensorrtExecutionProvider"));
}

TEST_F(OnnxRuntimeBackendTest, AnOpenVinoAcceleratorOnABuildWithoutItFails) {
  if (BuildHas("OpenVINOExecutionProvider")) GTEST_SKIP() << "this build has OpenVINO";
  auto inst = backend_->CreateInstance(ExampleModel("simple"),
                                       Parse(R"(optimization { execution_accelerators {
                 cpu_execution_accelerator : [ { name : "openvino" } ] } })"),
                                       {1, 1});
  ASSERT_FALSE(inst.ok());
  EXPECT_THAT(inst.status().message(),
              ::testing::HasSubstr("cpu_execution_accelerator 'openvino' needs ONNX Runtime's "
                                   "OpenVINOExecutionProvider"));
}

TEST_F(OnnxRuntimeBackendTest, AnExplicitCpuFallbackLoadsTheModelOnTheCpu) {
  InstanceOptions gpu{.intra_op_threads = 1, .inter_op_threads = 1, .on_gpu = true, .gpu_id = 0};
  auto inst = backend_->CreateInstance(ExampleModel("simple"),
                                       Parse(R"(optimization { execution_accelerators {
                 gpu_execution_accelerator : [ { name : "tensorrt" } ]
                 cpu_execution_accelerator : [ { name : "openvino" } ] } }
               parameters { key: "execution_accelerator_fallback" value: { string_value: "cpu" } })"),
                                       gpu);
  ASSERT_TRUE(inst.ok()) << inst.status().ToString();
}

TEST_F(OnnxRuntimeBackendTest, TakesTritonsSessionParametersAndGraphLevels) {
  for (int level : {-1, 0, 1, 2}) {
    config::ModelConfig cfg = Parse(R"(
      parameters { key: "execution_mode" value: { string_value: "1" } }
      parameters { key: "inter_op_thread_count" value: { string_value: "2" } }
      parameters { key: "enable_mem_arena" value: { string_value: "1" } }
      parameters { key: "enable_mem_pattern" value: { string_value: "0" } }
      parameters { key: "session.use_device_allocator_for_initializers" value: { string_value: "1" } }
      parameters { key: "memory.enable_memory_arena_shrinkage" value: { string_value: "cpu:0" } })");
    cfg.mutable_optimization()->mutable_graph()->set_level(level);
    auto inst = backend_->CreateInstance(ExampleModel("simple"), cfg, {1, 1});
    ASSERT_TRUE(inst.ok()) << "level " << level << ": " << inst.status().ToString();
    std::vector<Tensor> inputs = {Fp32("INPUT0", {1, 16}, 1), Fp32("INPUT1", {1, 16}, 1)};
    std::vector<std::string> outputs = {"OUTPUT0"};
    auto r = (*inst)->Execute(inputs, outputs, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FLOAT_EQ((*r)[0].As<float>()[3], 8.0f);  // (1+3) + (1+3)
  }
}

TEST_F(OnnxRuntimeBackendTest, RejectsBadSessionParameters) {
  EXPECT_THAT(
      backend_
          ->CreateInstance(ExampleModel("simple"), Parse(R"(parameters { key: "execution_mode"
                                                             value: { string_value: "2" } })"),
                           {1, 1})
          .status()
          .message(),
      ::testing::HasSubstr("execution_mode"));
  EXPECT_THAT(backend_
                  ->CreateInstance(ExampleModel("simple"),
                                   Parse("optimization { graph { level: 7 } }"), {1, 1})
                  .status()
                  .message(),
              ::testing::HasSubstr("optimization graph level is 7"));
}

}  // namespace
}  // namespace inferd::backends
