#include "scheduling/padding.h"

#include <gtest/gtest.h>

#include <cstring>

#include "scheduling/batch_executor.h"
#include "scheduling/batch_queue.h"
#include "test_payloads.h"

namespace inferd::scheduling {
namespace {

using testing::EchoInstance;

// Input "IN" INT32 [rows, length, 2]: element (r, l, c) = 100 * value + 10 * l + c.
std::unique_ptr<InferencePayload> Tokens(int32_t value, int64_t length, int64_t rows = 1) {
  auto p = std::make_unique<InferencePayload>();
  p->request.model_name = "m";
  Tensor t("IN", DataType::kInt32, {rows, length, 2});
  auto* v = reinterpret_cast<int32_t*>(
      t.AllocateData(static_cast<size_t>(rows * length * 2) * 4).data());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t l = 0; l < length; ++l) {
      for (int64_t c = 0; c < 2; ++c) *v++ = static_cast<int32_t>(100 * value + 10 * l + c);
    }
  }
  p->request.inputs.push_back(std::move(t));
  p->output_names = {"OUT"};
  p->batch_size = rows;
  p->length = length;
  p->done = [](Result<InferenceResponse>) {};
  return p;
}

PaddingSpec Spec() {
  PaddingSpec spec;
  spec.inputs.push_back({"IN", -1, 1});
  spec.buckets = {4, 8};
  spec.lengths_input = "LEN";
  spec.lengths_dtype = DataType::kInt32;
  spec.outputs.push_back({"OUT", 1});
  return spec;
}

std::vector<int32_t> Values(const Tensor& t) {
  auto v = t.As<int32_t>();
  return {v.begin(), v.end()};
}

TEST(Padding, ALengthGoesToTheSmallestBucketThatHoldsIt) {
  PaddingSpec spec = Spec();
  EXPECT_EQ(PaddedLength(spec, 0), 4);
  EXPECT_EQ(PaddedLength(spec, 4), 4);
  EXPECT_EQ(PaddedLength(spec, 5), 8);
  EXPECT_EQ(PaddedLength(spec, 8), 8);
  EXPECT_EQ(PaddedLength(spec, 11), 11);  // beyond the last bucket: its own length
}

TEST(Padding, PaddedInputsOfARequestMustAgreeOnTheLength) {
  PaddingSpec spec = Spec();
  spec.inputs.push_back({"MASK", 0, 1});
  auto p = Tokens(1, 3);
  EXPECT_EQ(*RequestLength(spec, p->request), 3);
  p->request.inputs.emplace_back("MASK", DataType::kInt32, Shape{1, 5});
  auto length = RequestLength(spec, p->request);
  ASSERT_FALSE(length.ok());
  EXPECT_EQ(length.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(length.status().message().find("'IN' (length 3) and 'MASK' (length 5)"),
            std::string::npos)
      << length.status().message();
}

TEST(Padding, TheLengthsInputIsTheServers) {
  PaddingSpec spec = Spec();
  auto p = Tokens(1, 3);
  p->request.inputs.emplace_back("LEN", DataType::kInt32, Shape{1});
  auto length = RequestLength(spec, p->request);
  ASSERT_FALSE(length.ok());
  EXPECT_NE(length.status().message().find("input 'LEN' is fed by the server"), std::string::npos);
}

TEST(Padding, RequestsOfOneBucketShareABatchKey) {
  BatchQueueOptions options;
  options.padding = std::make_shared<PaddingSpec>(Spec());
  const auto now = SteadyClock::now();
  auto a = Tokens(1, 2);
  auto b = Tokens(2, 4);
  auto c = Tokens(3, 5);
  ASSERT_TRUE(PreparePayload(options, *a, now).ok());
  ASSERT_TRUE(PreparePayload(options, *b, now).ok());
  ASSERT_TRUE(PreparePayload(options, *c, now).ok());
  EXPECT_TRUE(BatchCompatible(*a, *b, options.padding.get()));
  EXPECT_FALSE(BatchCompatible(*b, *c, options.padding.get()));
  EXPECT_EQ(a->length, 2);
  EXPECT_EQ(c->length, 5);
  // Without padding the exact shapes decide.
  BatchQueueOptions plain;
  ASSERT_TRUE(PreparePayload(plain, *a, now).ok());
  ASSERT_TRUE(PreparePayload(plain, *b, now).ok());
  EXPECT_FALSE(BatchCompatible(*a, *b, nullptr));
}

TEST(Padding, PadsEveryRequestToTheBucketAndFeedsTheLengths) {
  PaddingSpec spec = Spec();
  std::vector<std::unique_ptr<InferencePayload>> batch;
  batch.push_back(Tokens(1, 1));
  batch.push_back(Tokens(2, 3, /*rows=*/2));
  auto inputs = PadAndConcatenateInputs(spec, batch, 4);
  ASSERT_TRUE(inputs.ok()) << inputs.status().ToString();
  ASSERT_EQ(inputs->size(), 2u);
  const Tensor& in = (*inputs)[0];
  EXPECT_EQ(in.shape(), (Shape{3, 4, 2}));
  const int32_t p = -1;
  EXPECT_EQ(Values(in), (std::vector<int32_t>{100, 101, p, p, p, p, p, p,                //
                                              200, 201, 210, 211, 220, 221, p, p,        //
                                              200, 201, 210, 211, 220, 221, p, p}));
  const Tensor& lengths = (*inputs)[1];
  EXPECT_EQ(lengths.name(), "LEN");
  EXPECT_EQ(lengths.shape(), (Shape{3}));
  EXPECT_EQ(Values(lengths), (std::vector<int32_t>{1, 3, 3}));
}

TEST(Padding, PadValuesTakeTheInputsType) {
  PaddingSpec spec;
  spec.inputs.push_back({"F", 0.5, 1});
  spec.buckets = {2};
  auto p = std::make_unique<InferencePayload>();
  Tensor t("F", DataType::kFp32, {1, 1});
  const float one = 1.0f;
  std::memcpy(t.AllocateData(4).data(), &one, 4);
  p->request.inputs.push_back(std::move(t));
  p->length = 1;
  std::vector<std::unique_ptr<InferencePayload>> batch;
  batch.push_back(std::move(p));
  auto inputs = PadAndConcatenateInputs(spec, batch, 2);
  ASSERT_TRUE(inputs.ok());
  auto v = (*inputs)[0].As<float>();
  EXPECT_EQ(std::vector<float>(v.begin(), v.end()), (std::vector<float>{1.0f, 0.5f}));
}

TEST(Padding, TrimsAnOutputBackToTheRequestsLength) {
  std::vector<std::unique_ptr<InferencePayload>> batch;
  batch.push_back(Tokens(7, 2, /*rows=*/2));
  auto padded = PadAndConcatenateInputs(Spec(), batch, 4);
  ASSERT_TRUE(padded.ok());
  auto trimmed = TrimToLength((*padded)[0], 1, 4, 2);
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(trimmed->shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(Values(*trimmed), Values(batch[0]->request.inputs[0]));
  EXPECT_EQ(TrimToLength((*padded)[0], 1, 8, 2).status().code(), StatusCode::kInternal);
}

TEST(Padding, ABatchOfMixedLengthsAnswersEachRequestWithItsOwnLength) {
  EchoInstance instance;  // echoes IN as OUT: the padded tensor comes back padded
  PaddingSpec spec = Spec();
  spec.lengths_input.clear();  // the echo model takes IN only
  std::vector<std::unique_ptr<InferencePayload>> batch;
  std::vector<Result<InferenceResponse>> results(3, Internal("not completed"));
  const int64_t lengths[] = {3, 1, 4};
  for (int i = 0; i < 3; ++i) {
    batch.push_back(Tokens(i + 1, lengths[i]));
    batch.back()->done = [&results, i](Result<InferenceResponse> r) { results[i] = std::move(r); };
  }
  std::vector<Tensor> originals;
  for (const auto& p : batch) originals.push_back(p->request.inputs[0]);
  auto outcome = ExecuteBatch(instance, batch, [](const BatchOutcome&) {}, &spec);
  EXPECT_EQ(outcome.rows, 3);
  EXPECT_EQ(instance.batch_rows(), (std::vector<int64_t>{3}));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].status().ToString();
    const Tensor& out = results[i]->outputs[0];
    EXPECT_EQ(out.shape(), (Shape{1, lengths[i], 2}));
    EXPECT_EQ(Values(out), Values(originals[i]));
  }
}

}  // namespace
}  // namespace inferd::scheduling
