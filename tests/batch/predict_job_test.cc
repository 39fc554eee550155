// PredictJob against a fake engine: answers arrive out of order from threads, yet the output is
// in input order; a refused batch is split to find its bad rows.
#include "batch/predict_job.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace inferd::batch {
namespace {

// y = 2x for input "x" [2] FP32, max_batch_size 4. A batch holding a negative value is refused
// (INVALID_ARGUMENT), as a server refuses a bad request. Answers come from a thread per request
// after a random delay, so they finish out of order.
class DoublingEngine final : public PredictEngine {
 public:
  Result<ModelSpec> Describe(const std::string& model) override {
    return ModelSpec{model, 4, {{"x", DataType::kFp32, {2}}}, {"y"}};
  }
  void Infer(InferenceRequest request, Done done) override {
    ++requests_;
    const int delay_us = static_cast<int>(rng_() % 2000);
    threads_.emplace_back([request = std::move(request), done = std::move(done), delay_us] {
      std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
      const Tensor& x = request.inputs.at(0);
      Tensor y("y", DataType::kFp32, x.shape());
      std::span<std::byte> bytes = y.AllocateData(x.byte_size());
      auto* out = reinterpret_cast<float*>(bytes.data());
      for (size_t i = 0; i < x.As<float>().size(); ++i) {
        if (x.As<float>()[i] < 0) return done(InvalidArgument("negative value"));
        out[i] = 2 * x.As<float>()[i];
      }
      InferenceResponse response;
      response.outputs.push_back(std::move(y));
      done(std::move(response));
    });
  }
  ~DoublingEngine() override {
    for (std::thread& t : threads_) t.join();
  }
  int requests() const { return requests_; }

 private:
  std::mt19937 rng_{7};
  std::atomic<int> requests_{0};
  std::vector<std::thread> threads_;  // Infer is called from one thread (PredictJob's)
};

std::string Dir() {
  auto dir =
      std::filesystem::temp_directory_path() / ("predict_job_test." + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(PredictJob, WritesAnswersInInputOrderWhateverOrderTheyArriveIn) {
  const std::string dir = Dir();
  std::string want;
  {
    std::ofstream in(dir + "/order.jsonl");
    for (int i = 0; i < 50; ++i) {
      in << "{\"x\": [" << i << ", " << i + 0.5 << "]}\n";
      want += "{\"y\":[" + std::to_string(2 * i) + "," + std::to_string(2 * i + 1) + "]}\n";
    }
  }
  DoublingEngine engine;
  PredictOptions options{.model = "m",
                         .input = dir + "/order.jsonl",
                         .output = dir + "/order.out.jsonl",
                         .block_rows = 7,
                         .in_flight_blocks = 3};
  auto summary = PredictJob::Run(engine, options, nullptr);
  ASSERT_TRUE(summary.ok()) << summary.status().message();
  EXPECT_EQ(summary->progress.rows_ok, 50);
  EXPECT_EQ(Read(options.output), want);
  EXPECT_EQ(engine.requests(), 7 * 2 + 1);  // 7 full blocks of 4 + 3 rows, and a block of 1
  EXPECT_FALSE(std::filesystem::exists(CheckpointPath(options)));
  EXPECT_FALSE(std::filesystem::exists(options.output + ".errors.jsonl"));
  std::filesystem::remove_all(dir);
}

TEST(PredictJob, ARefusedBatchIsRetriedRowByRowToFindItsBadRows) {
  const std::string dir = Dir();
  {
    std::ofstream in(dir + "/bad.jsonl");
    in << "{\"x\": [1, 2]}\n{\"x\": [3, -4]}\n{\"x\": [5, 6]}\n{\"x\": [7]}\n";
  }
  DoublingEngine engine;
  PredictOptions options{
      .model = "m", .input = dir + "/bad.jsonl", .output = dir + "/bad.out.jsonl"};
  auto summary = PredictJob::Run(engine, options, nullptr);
  ASSERT_TRUE(summary.ok()) << summary.status().message();
  EXPECT_EQ(summary->progress.rows_ok, 2);
  EXPECT_EQ(summary->progress.rows_failed, 2);
  EXPECT_EQ(Read(options.output), "{\"y\":[2,4]}\n{\"y\":[10,12]}\n");
  const std::string errors = Read(options.output + ".errors.jsonl");
  EXPECT_NE(errors.find("{\"line\":2,\"error\":\"negative value\"}"), std::string::npos);
  EXPECT_NE(errors.find("{\"line\":4,"), std::string::npos);  // one value of two
  EXPECT_LT(errors.find("\"line\":2"), errors.find("\"line\":4"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace inferd::batch
