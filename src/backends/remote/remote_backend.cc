#include "backends/remote/remote_backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "backends/remote/v2_grpc_call.h"
#include "backends/remote/v2_http_call.h"
#include "config/model_config_queries.h"
#include "config/model_config_validation.h"
#include "config/proto_data_type.h"
#include "core/duration.h"

namespace inferd::backends {
namespace {

constexpr std::string_view kName = "remote";
constexpr std::string_view kPlatform = "inferd_remote";

struct RemoteSettings {
  remote::V2Endpoint endpoint;
  std::chrono::milliseconds timeout{5000};
};

Result<RemoteSettings> ReadRemoteSettings(const config::ModelConfig& config,
                                          std::string_view model_name) {
  auto url = config::GetParameter(config, "url");
  if (!url) {
    return InvalidArgument(fmt::format(
        "model '{}': a remote model needs parameters.url (http://host:port)", model_name));
  }
  RemoteSettings s;
  ASSIGN_OR_RETURN(s.endpoint, remote::ParseEndpoint(*url));
  s.endpoint.model_name =
      config::GetParameter(config, "model_name").value_or(std::string(model_name));
  s.endpoint.model_version = config::GetParameter(config, "model_version").value_or("");
  if (auto v = config::GetParameter(config, "timeout_ms")) {
    uint32_t ms = 0;
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), ms);
    if (ec != std::errc() || ptr != v->data() + v->size() || ms == 0) {
      return InvalidArgument(fmt::format(
          "model '{}': parameters.timeout_ms '{}' is not a positive number of milliseconds",
          model_name, *v));
    }
    s.timeout = std::chrono::milliseconds(ms);
  }
  return s;
}

class RemoteInstance final : public ModelInstance {
 public:
  RemoteInstance(RemoteSettings settings, config::ModelSignature signature)
      : settings_(std::move(settings)), signature_(std::move(signature)) {
    if (settings_.endpoint.grpc) {
      grpc_ = std::make_unique<remote::V2GrpcClient>(settings_.endpoint);
    } else {
      http_ = std::make_unique<remote::V2HttpClient>(settings_.endpoint);
    }
  }

  const config::ModelSignature& signature() const override { return signature_; }

  Result<std::vector<Tensor>> Execute(std::span<const Tensor> inputs,
                                      std::span<const std::string> output_names,
                                      ExecutionTimings* timings) override {
    return ExecuteWithContext(inputs, output_names, ExecutionContext{}, timings);
  }

  // The call gets timeout_ms, or what is left of the requests' deadline when that is sooner,
  // and the requests' trace context.
  Result<std::vector<Tensor>> ExecuteWithContext(std::span<const Tensor> inputs,
                                                 std::span<const std::string> output_names,
                                                 const ExecutionContext& context,
                                                 ExecutionTimings* timings) override {
    const auto start = std::chrono::steady_clock::now();
    const std::string what = fmt::format("remote model '{}'", settings_.endpoint.model_name);
    remote::CallOptions options;
    options.timeout = settings_.timeout;
    options.traceparent = context.traceparent;
    if (context.deadline != std::chrono::steady_clock::time_point::max()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(context.deadline - start);
      if (left.count() <= 0) {
        return DeadlineExceeded(
            fmt::format("{}: the request's deadline passed before the call to remote server {}:{}",
                        what, settings_.endpoint.host, settings_.endpoint.port));
      }
      options.timeout = std::min(options.timeout, left);
    }
    auto outputs = grpc_ ? grpc_->Call(inputs, output_names, options)
                         : http_->Call(inputs, output_names, options);
    if (timings) timings->infer_ns = NanosSince(start);
    if (!outputs.ok()) return outputs.status().WithContext(what);
    return outputs;
  }

 private:
  const RemoteSettings settings_;
  const config::ModelSignature signature_;
  // One of them: a connection kept between calls.
  std::unique_ptr<remote::V2GrpcClient> grpc_;  // grpc:// endpoints
  std::unique_ptr<remote::V2HttpClient> http_;  // http:// endpoints
};

// The declared tensors, as the signature auto-complete checks the config against.
config::ModelSignature SignatureOf(const config::ModelConfig& config) {
  config::ModelSignature s;
  auto full = [&](const auto& dims) {
    std::vector<int64_t> out;
    if (config.max_batch_size() > 0) out.push_back(-1);
    out.insert(out.end(), dims.begin(), dims.end());
    return out;
  };
  for (const auto& in : config.input()) {
    s.inputs.push_back({in.name(), config::FromProtoDataType(in.data_type()), full(in.dims())});
  }
  for (const auto& out : config.output()) {
    s.outputs.push_back({out.name(), config::FromProtoDataType(out.data_type()), full(out.dims())});
  }
  return s;
}

class RemoteBackend final : public Backend {
 public:
  std::string_view name() const override { return kName; }
  std::string_view platform() const override { return kPlatform; }
  std::string_view default_model_filename() const override { return ""; }
  std::string version() const override { return "1"; }

  Result<std::unique_ptr<ModelInstance>> CreateInstance(const std::filesystem::path&,
                                                        const config::ModelConfig& config,
                                                        const InstanceOptions&) override {
    if (config.input_size() == 0 || config.output_size() == 0) {
      return InvalidArgument(fmt::format(
          "model '{}': a remote model must declare its inputs and outputs", config.name()));
    }
    ASSIGN_OR_RETURN(auto settings, ReadRemoteSettings(config, config.name()));
    return std::unique_ptr<ModelInstance>(
        new RemoteInstance(std::move(settings), SignatureOf(config)));
  }
};

}  // namespace

Result<std::unique_ptr<Backend>> CreateRemoteBackend() {
  return std::unique_ptr<Backend>(new RemoteBackend());
}

BackendFactory RemoteBackendFactory() {
  return {std::string(kName), std::string(kPlatform), "", &CreateRemoteBackend};
}

}  // namespace inferd::backends
