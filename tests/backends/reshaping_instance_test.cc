#include "backends/reshaping_instance.h"

#include <gtest/gtest.h>

#include "config/model_config_parser.h"

namespace inferd::backends {
namespace {

// An engine that records the shapes it was given and answers with one output of a fixed shape.
class ShapeRecordingInstance final : public ModelInstance {
 public:
  explicit ShapeRecordingInstance(Shape output_shape) : output_shape_(std::move(output_shape)) {}
  const config::ModelSignature& signature() const override { return signature_; }
  Result<std::vector<Tensor>> Execute(std::span<const Tensor> inputs,
                                      std::span<const std::string> output_names,
                                      ExecutionTimings*) override {
    seen.clear();
    for (const Tensor& t : inputs) seen.push_back(t.shape());
    Tensor out(output_names[0], DataType::kFp32, output_shape_);
    out.AllocateData(static_cast<size_t>(ElementCount(output_shape_)) * 4);
    return std::vector<Tensor>{std::move(out)};
  }
  std::vector<Shape> seen;

 private:
  config::ModelSignature signature_;
  Shape output_shape_;
};

config::ModelConfig Parse(const char* text) {
  auto c = config::ParseModelConfig(text, "test");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return *c;
}

TEST(ReshapingInstance, GivesTheEngineTheReshapeAndTheClientTheDims) {
  // Triton's densenet_onnx, smaller.
  auto cfg = Parse(R"(name: "d" max_batch_size: 0
      input { name: "x" data_type: TYPE_FP32 dims: [ 3, 4, 4 ] reshape { shape: [ 1, 3, 4, 4 ] } }
      output { name: "y" data_type: TYPE_FP32 dims: [ 10 ] reshape { shape: [ 1, 10, 1, 1 ] } })");
  auto engine = std::make_unique<ShapeRecordingInstance>(Shape{1, 10, 1, 1});
  ShapeRecordingInstance* raw = engine.get();
  auto wrapped = WithReshape(cfg, std::move(engine));
  Tensor x("x", DataType::kFp32, {3, 4, 4});
  x.AllocateData(48 * 4);
  const std::vector<std::string> names = {"y"};
  auto out = wrapped->Execute(std::span<const Tensor>(&x, 1), names, nullptr);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(raw->seen.at(0), (Shape{1, 3, 4, 4}));
  EXPECT_EQ(out->at(0).shape(), (Shape{10}));
}

TEST(ReshapingInstance, KeepsTheBatchDimInFront) {
  auto cfg = Parse(R"(name: "b" max_batch_size: 8
      input { name: "x" data_type: TYPE_FP32 dims: [ 6 ] reshape { shape: [ 2, 3 ] } }
      output { name: "y" data_type: TYPE_FP32 dims: [ 6 ] })");
  auto engine = std::make_unique<ShapeRecordingInstance>(Shape{5, 6});
  ShapeRecordingInstance* raw = engine.get();
  auto wrapped = WithReshape(cfg, std::move(engine));
  Tensor x("x", DataType::kFp32, {5, 6});
  x.AllocateData(30 * 4);
  const std::vector<std::string> names = {"y"};
  ASSERT_TRUE(wrapped->Execute(std::span<const Tensor>(&x, 1), names, nullptr).ok());
  EXPECT_EQ(raw->seen.at(0), (Shape{5, 2, 3}));
}

TEST(ReshapingInstance, IsNotAddedWithoutAReshape) {
  auto cfg = Parse(R"(name: "p" input { name: "x" data_type: TYPE_FP32 dims: [ 6 ] }
                      output { name: "y" data_type: TYPE_FP32 dims: [ 6 ] })");
  auto engine = std::make_unique<ShapeRecordingInstance>(Shape{6});
  ModelInstance* raw = engine.get();
  EXPECT_EQ(WithReshape(cfg, std::move(engine)).get(), raw);
}

TEST(ReshapeForEngine, FillsVariableDimsFromTheRequest) {
  const std::vector<int64_t> dims = {-1, 4}, reshape = {1, -1, 4};
  EXPECT_EQ(ReshapeForEngine({7, 4}, dims, reshape, false), (Shape{1, 7, 4}));
  EXPECT_EQ(ReshapeForEngine({2, 7, 4}, dims, reshape, true), (Shape{2, 1, 7, 4}));
}

}  // namespace
}  // namespace inferd::backends
