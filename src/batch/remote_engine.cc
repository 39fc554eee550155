#include "batch/remote_engine.h"

#include <fmt/format.h>

#include <chrono>

#include "batch/v2_client.h"

namespace inferd::batch {

Result<std::unique_ptr<RemoteEngine>> RemoteEngine::Create(const Options& options) {
  if (options.urls.empty()) return InvalidArgument("no --url to send batches to");
  for (const std::string& url : options.urls) {
    RETURN_IF_ERROR(CreateV2Client(options.protocol, url).status());
  }
  std::unique_ptr<RemoteEngine> engine(new RemoteEngine(options));
  for (size_t u = 0; u < options.urls.size(); ++u) {
    for (int c = 0; c < options.connections_per_url; ++c) {
      engine->workers_.emplace_back([raw = engine.get(), u] { raw->Work(u); });
    }
  }
  return engine;
}

RemoteEngine::~RemoteEngine() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  ready_.NotifyAll();
  for (std::thread& worker : workers_) worker.join();
}

Result<ModelSpec> RemoteEngine::Describe(const std::string& model) {
  // The first server that answers describes the model; they are meant to serve the same one.
  Status last;
  for (const std::string& url : options_.urls) {
    ASSIGN_OR_RETURN(auto client, CreateV2Client(options_.protocol, url));
    auto spec = client->Describe(model);
    if (spec.ok() || spec.status().code() == StatusCode::kNotFound) return spec;
    last = spec.status();
  }
  return Unavailable(fmt::format("no server could describe model '{}': {}", model, last.message()));
}

void RemoteEngine::Infer(InferenceRequest request, Done done) {
  {
    MutexLock lock(mu_);
    queue_.push_back({std::move(request), std::move(done), 0});
  }
  ready_.NotifyAll();  // all: a backing-off worker waits on it too
}

void RemoteEngine::Work(size_t url_index) {
  auto created = CreateV2Client(options_.protocol, options_.urls[url_index]);
  std::unique_ptr<V2Client> client = std::move(created).value();  // checked in Create
  int consecutive_failures = 0;
  while (true) {
    Task task;
    {
      MutexLock lock(mu_);
      ready_.Wait(mu_, [this]() REQUIRES(mu_) { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    Result<InferenceResponse> answer = client->Infer(task.request);
    if (answer.ok()) consecutive_failures = 0;
    if (answer.ok() || answer.status().code() != StatusCode::kUnavailable ||
        task.tries >= options_.retries) {
      if (!answer.ok() && answer.status().code() == StatusCode::kUnavailable) {
        answer = Unavailable(
            fmt::format("{} (after {} tries)", answer.status().message(), task.tries + 1));
      }
      task.done(std::move(answer));
      continue;
    }
    ++task.tries;
    // Back in the queue at once, for a worker of another server to take; this worker (its server
    // just failed) waits before it takes any work again, longer after each failure in a row.
    {
      MutexLock lock(mu_);
      queue_.push_front(std::move(task));
    }
    ready_.NotifyAll();  // all: a backing-off worker waits on it too
    consecutive_failures = std::min(consecutive_failures + 1, 5);
    MutexLock lock(mu_);
    ready_.WaitFor(mu_,
                   std::chrono::milliseconds(options_.retry_delay_ms << (consecutive_failures - 1)),
                   [this]() REQUIRES(mu_) { return stopping_; });
  }
}

}  // namespace inferd::batch
