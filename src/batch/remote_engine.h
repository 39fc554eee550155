// RemoteEngine: `inferd predict --url ...`: batches go to running servers (several replicas, or
// one load balancer in front of a fleet) over HTTP with binary tensors or over v2 gRPC
// (V2Client). Each server gets
// `connections_per_url` worker threads, each with its own keep-alive connection, pulling
// batches from one queue, so a faster server takes more of them. A batch that fails for a
// reason worth retrying (no connection, HTTP 5xx/429) goes back to the queue, to be tried again
// by another worker (most likely on another server) up to `retries` times; a 400 is the rows'
// fault and is returned as INVALID_ARGUMENT (PredictJob then finds the bad rows). A worker whose
// server failed backs off (retry_delay_ms, doubling up to 16x) before it takes more work.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "batch/predict_engine.h"
#include "core/mutex.h"

namespace inferd::batch {

class RemoteEngine final : public PredictEngine {
 public:
  struct Options {
    std::vector<std::string> urls = {};  // at least one: http://host:port, or host:port (gRPC)
    std::string protocol = "http";       // http (binary tensors) or grpc
    int retries = 3;                     // further tries of a batch after a retryable failure
    int connections_per_url = 2;
    int retry_delay_ms = 200;  // before a retried batch is sent again
  };
  static Result<std::unique_ptr<RemoteEngine>> Create(const Options& options);
  ~RemoteEngine() override;

  Result<ModelSpec> Describe(const std::string& model) override;
  void Infer(InferenceRequest request, Done done) override;

 private:
  struct Task {
    InferenceRequest request;
    Done done;
    int tries = 0;
  };
  explicit RemoteEngine(Options options) : options_(std::move(options)) {}
  void Work(size_t url_index);

  Options options_;
  Mutex mu_;
  CondVar ready_;
  std::deque<Task> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace inferd::batch
