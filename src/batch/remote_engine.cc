#include "batch/remote_engine.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <chrono>

#include "batch/http_v2_client.h"
#include "batch/in_process_engine.h"

namespace inferd::batch {

Result<std::unique_ptr<RemoteEngine>> RemoteEngine::Create(const Options& options) {
  if (options.urls.empty()) return InvalidArgument("no --url to send batches to");
  for (const std::string& url : options.urls) RETURN_IF_ERROR(HttpV2Client::Create(url).status());
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
    ASSIGN_OR_RETURN(auto client, HttpV2Client::Create(url));
    auto metadata_json = client->Get(fmt::format("/v2/models/{}", model));
    auto config_json = metadata_json.ok() ? client->Get(fmt::format("/v2/models/{}/config", model))
                                          : Result<std::string>(metadata_json.status());
    if (!config_json.ok()) {
      if (config_json.status().code() == StatusCode::kNotFound) return config_json.status();
      last = config_json.status();
      continue;
    }
    simdjson::dom::parser parser;
    simdjson::dom::element metadata_root, config_root;
    if (parser.parse(*metadata_json).get(metadata_root) != simdjson::SUCCESS) {
      return Internal(fmt::format("{}: model metadata is not JSON", url));
    }
    server::ModelMetadata metadata;
    metadata.name = model;
    for (const char* side : {"inputs", "outputs"}) {
      simdjson::dom::array tensors;
      if (metadata_root[side].get_array().get(tensors) != simdjson::SUCCESS) continue;
      for (simdjson::dom::element t : tensors) {
        server::TensorMetadata m;
        m.name = std::string(t["name"].get_string().value_unsafe());
        m.dtype = DataTypeFromName(t["datatype"].get_string().value_unsafe());
        simdjson::dom::array shape;
        if (t["shape"].get_array().get(shape) == simdjson::SUCCESS) {
          for (simdjson::dom::element d : shape) m.shape.push_back(d.get_int64().value_unsafe());
        }
        (std::string_view(side) == "inputs" ? metadata.inputs : metadata.outputs)
            .push_back(std::move(m));
      }
    }
    simdjson::dom::parser config_parser;
    int64_t max_batch_size = 0;
    if (config_parser.parse(*config_json).get(config_root) == simdjson::SUCCESS) {
      if (config_root["max_batch_size"].get_int64().get(max_batch_size) != simdjson::SUCCESS) {
        max_batch_size = 0;
      }
    }
    return SpecFromMetadata(metadata, max_batch_size);
  }
  return Unavailable(fmt::format("no server could describe model '{}': {}", model, last.message()));
}

void RemoteEngine::Infer(InferenceRequest request, Done done) {
  {
    MutexLock lock(mu_);
    queue_.push_back({std::move(request), std::move(done), 0});
  }
  ready_.NotifyOne();
}

void RemoteEngine::Work(size_t url_index) {
  auto created = HttpV2Client::Create(options_.urls[url_index]);
  std::unique_ptr<HttpV2Client> client = std::move(created).value();  // checked in Create
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
    // This server failed it: wait a little (so that another worker, likely of another server,
    // takes it first), then put it back in the queue.
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.retry_delay_ms));
    {
      MutexLock lock(mu_);
      queue_.push_front(std::move(task));
    }
    ready_.NotifyOne();
  }
}

}  // namespace inferd::batch
