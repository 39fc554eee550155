#include "scheduling/batch_executor.h"

#include <gtest/gtest.h>

#include "test_payloads.h"

namespace inferd::scheduling {
namespace {

using testing::EchoInstance;
using testing::MakePayload;

TEST(BatchExecutor, ConcatenatesInputsAlongTheBatchDim) {
  std::vector<std::unique_ptr<InferencePayload>> batch;
  batch.push_back(MakePayload(1, 1));
  batch.push_back(MakePayload(2, 2));
  auto joined = ConcatenateInputs(batch);
  ASSERT_TRUE(joined.ok()) << joined.status().ToString();
  ASSERT_EQ(joined->size(), 1u);
  EXPECT_EQ((*joined)[0].shape(), (Shape{3, 2}));
  auto v = (*joined)[0].As<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(v.begin(), v.end()), (std::vector<int32_t>{1, 1, 2, 2, 2, 2}));
}

TEST(BatchExecutor, SplitsBytesOutputsByRows) {
  std::vector<std::byte> data;
  for (const char* s : {"a", "bb", "ccc", "dddd"}) AppendBytesElement(data, s);
  Tensor out("S", DataType::kBytes, {2, 2});
  out.SetData(std::move(data));
  std::vector<int64_t> rows = {1, 1};
  auto parts = SplitOutput(out, rows);
  ASSERT_TRUE(parts.ok());
  auto second = SplitBytesElements((*parts)[1].data());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, (std::vector<std::string_view>{"ccc", "dddd"}));
  EXPECT_EQ((*parts)[1].shape(), (Shape{1, 2}));
}

TEST(BatchExecutor, AnOutputWithoutTheBatchDimIsAnError) {
  Tensor out("O", DataType::kFp32, {4});
  out.AllocateData(16);
  std::vector<int64_t> rows = {1, 2};
  EXPECT_EQ(SplitOutput(out, rows).status().code(), StatusCode::kInternal);
}

TEST(BatchExecutor, EveryRequestGetsItsOwnRows) {
  EchoInstance instance;
  std::vector<std::unique_ptr<InferencePayload>> batch;
  std::vector<Result<InferenceResponse>> results(3, Internal("not completed"));
  for (int i = 0; i < 3; ++i) {
    batch.push_back(MakePayload(10 + i, i + 1));
    batch.back()->done = [&results, i](Result<InferenceResponse> r) { results[i] = std::move(r); };
  }
  auto outcome = ExecuteBatch(instance, batch);
  EXPECT_EQ(outcome.rows, 6);
  EXPECT_EQ(instance.batch_rows(), (std::vector<int64_t>{6}));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(results[i].ok());
    const Tensor& out = results[i]->outputs[0];
    EXPECT_EQ(out.shape(), (Shape{i + 1, 2}));
    EXPECT_EQ(results[i]->id, std::to_string(10 + i));
    for (int32_t v : out.As<int32_t>()) EXPECT_EQ(v, 10 + i);
  }
}

}  // namespace
}  // namespace inferd::scheduling
