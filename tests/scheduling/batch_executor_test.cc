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

// Records the context a run was given (what remote steps pass on).
class ContextInstance final : public EchoInstance {
 public:
  Result<std::vector<Tensor>> ExecuteWithContext(std::span<const Tensor> inputs,
                                                 std::span<const std::string> names,
                                                 const backends::ExecutionContext& context,
                                                 backends::ExecutionTimings* timings) override {
    deadline = context.deadline;
    traceparent = std::string(context.traceparent);
    return Execute(inputs, names, timings);
  }
  SteadyClock::time_point deadline;
  std::string traceparent;
};

TEST(BatchExecutor, ARunGetsTheBatchsEarliestDeadlineAndFirstTraceContext) {
  ContextInstance instance;
  const auto now = SteadyClock::now();
  std::vector<std::unique_ptr<InferencePayload>> batch;
  for (int i = 0; i < 3; ++i) batch.push_back(MakePayload(i));
  batch[0]->request.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  batch[1]->request.deadline = now + std::chrono::seconds(5);
  batch[2]->request.deadline = now + std::chrono::seconds(2);
  ExecuteBatch(instance, batch);
  EXPECT_EQ(instance.deadline, now + std::chrono::seconds(2));
  EXPECT_EQ(instance.traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
}

TEST(BatchExecutor, ARunWithoutDeadlinesHasNone) {
  ContextInstance instance;
  std::vector<std::unique_ptr<InferencePayload>> batch;
  batch.push_back(MakePayload(1));
  ExecuteBatch(instance, batch);
  EXPECT_EQ(instance.deadline, SteadyClock::time_point::max());
  EXPECT_EQ(instance.traceparent, "");
}

}  // namespace
}  // namespace inferd::scheduling
