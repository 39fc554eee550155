#include "server/request_validator.h"

#include <gtest/gtest.h>

#include <iterator>

#include "config/model_config.h"

namespace inferd::server {
namespace {

config::ModelConfig SimpleConfig() {
  auto cfg = config::ParseModelConfig(R"pb(
    name: "simple"
    max_batch_size: 8
    input { name: "A" data_type: TYPE_FP32 dims: [ 4 ] }
    input { name: "B" data_type: TYPE_FP32 dims: [ -1 ] }
    output { name: "X" data_type: TYPE_FP32 dims: [ 4 ] }
    output { name: "Y" data_type: TYPE_FP32 dims: [ 4 ] }
  )pb", "test");
  EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
  return *cfg;
}

Tensor Fp32(const std::string& name, Shape shape) {
  Tensor t(name, DataType::kFp32, std::move(shape));
  t.AllocateData(static_cast<size_t>(t.element_count()) * 4);
  return t;
}

InferenceRequest Request(std::vector<Tensor> inputs) {
  InferenceRequest r;
  r.model_name = "simple";
  r.inputs.assign(std::make_move_iterator(inputs.begin()), std::make_move_iterator(inputs.end()));
  return r;
}

void ExpectInvalid(const Result<ValidatedRequest>& r, const std::string& fragment) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
}

TEST(RequestValidator, AcceptsAValidRequestAndSelectsEveryOutput) {
  auto r = ValidateRequest(SimpleConfig(), Request({Fp32("A", {2, 4}), Fp32("B", {2, 7})}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output_names, (scheduling::OutputNames{"X", "Y"}));
  EXPECT_EQ(r->batch_size, 2);
}

TEST(RequestValidator, ReturnsTheRequestedOutputSubset) {
  auto req = Request({Fp32("A", {1, 4}), Fp32("B", {1, 1})});
  req.outputs.push_back({"Y", {}});
  auto r = ValidateRequest(SimpleConfig(), req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output_names, (scheduling::OutputNames{"Y"}));
}

TEST(RequestValidator, RejectsUnknownInput) {
  ExpectInvalid(ValidateRequest(SimpleConfig(), Request({Fp32("A", {1, 4}), Fp32("C", {1, 1})})),
                "'C'");
}

TEST(RequestValidator, RejectsMissingInput) {
  ExpectInvalid(ValidateRequest(SimpleConfig(), Request({Fp32("A", {1, 4})})), "missing input 'B'");
}

TEST(RequestValidator, RejectsWrongDatatype) {
  Tensor b("B", DataType::kInt32, {1, 1});
  b.AllocateData(4);
  ExpectInvalid(ValidateRequest(SimpleConfig(), Request({Fp32("A", {1, 4}), b})),
                "input 'B' has datatype INT32 but model 'simple' expects FP32");
}

TEST(RequestValidator, RejectsWrongShape) {
  ExpectInvalid(ValidateRequest(SimpleConfig(), Request({Fp32("A", {1, 5}), Fp32("B", {1, 1})})),
                "input 'A' has shape [1,5] but model 'simple' expects [-1,4]");
  ExpectInvalid(ValidateRequest(SimpleConfig(), Request({Fp32("A", {4}), Fp32("B", {1, 1})})),
                "expects [-1,4]");
}

TEST(RequestValidator, RejectsBatchOverMaxBatchSize) {
  ExpectInvalid(ValidateRequest(SimpleConfig(), Request({Fp32("A", {9, 4}), Fp32("B", {9, 1})})),
                "max_batch_size");
}

TEST(RequestValidator, RejectsInputsWithDifferentBatchSizes) {
  ExpectInvalid(ValidateRequest(SimpleConfig(), Request({Fp32("A", {2, 4}), Fp32("B", {3, 1})})),
                "batch size");
}

TEST(RequestValidator, RejectsDataThatDoesNotFillTheShape) {
  Tensor a("A", DataType::kFp32, {1, 4});
  a.AllocateData(12);
  ExpectInvalid(ValidateRequest(SimpleConfig(), Request({a, Fp32("B", {1, 1})})), "'A'");
}

TEST(RequestValidator, RejectsUnknownAndDuplicateOutputs) {
  auto req = Request({Fp32("A", {1, 4}), Fp32("B", {1, 1})});
  req.outputs.push_back({"Z", {}});
  ExpectInvalid(ValidateRequest(SimpleConfig(), req), "unexpected inference output 'Z'");
  req.outputs = {{"X", {}}, {"X", {}}};
  ExpectInvalid(ValidateRequest(SimpleConfig(), req), "twice");
}

TEST(RequestValidator, NonBatchingModelsTakeTheConfigRankExactly) {
  auto cfg = SimpleConfig();
  cfg.set_max_batch_size(0);
  EXPECT_TRUE(ValidateRequest(cfg, Request({Fp32("A", {4}), Fp32("B", {3})})).ok());
  ExpectInvalid(ValidateRequest(cfg, Request({Fp32("A", {1, 4}), Fp32("B", {3})})), "'A'");
}

}  // namespace
}  // namespace inferd::server
