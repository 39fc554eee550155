#include "http/control_endpoints.h"

#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "http/jobs_http.h"
#include "http/logging_json.h"
#include "http/metadata_json.h"
#include "http/shared_memory_json.h"
#include "http/trace_json.h"
#include "jobs/job_manager.h"
#include "observability/logging.h"
#include "observability/payload_logger.h"
#include "web/web_files.h"

namespace inferd::http {
namespace {

constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

HttpAnswer JsonAnswer(std::string body) {
  HttpAnswer answer;
  answer.body = std::move(body);
  return answer;
}

// 200 when ready/live, 503 when not.
HttpAnswer HealthAnswer(bool ok) { return EmptyAnswer(ok ? 200 : 503); }

// An embedded static file (src/web). The console's scripts and styles are separate files, so
// the policy forbids inline script and anything from another origin.
HttpAnswer WebFileAnswer(const std::string& name) {
  const web::WebFile* file = web::FindWebFile(name);
  if (file == nullptr) return ErrorAnswer(NotFound(fmt::format("no file '{}'", name)));
  HttpAnswer answer;
  answer.content_type = file->content_type;
  answer.body = std::string(file->body);
  answer.headers = {{"Cache-Control", "no-cache"},
                    {"X-Content-Type-Options", "nosniff"},
                    {"Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"}};
  return answer;
}

HttpAnswer TraceSettingAnswer(handler::RequestHandler& handler, const ControlRequest& request) {
  const std::string& model = request.route.model;
  auto settings = handler.GetTraceSettings(model);
  if (request.method == Method::kPost && settings.ok()) {
    auto update = ParseTraceSettingsJson(request.body);
    if (!update.ok()) return ErrorAnswer(update.status());
    settings = handler.UpdateTraceSettings(model, *update);
  }
  if (!settings.ok()) return ErrorAnswer(settings.status());
  return JsonAnswer(TraceSettingsJson(*settings));
}

HttpAnswer SharedMemoryAnswer(handler::RequestHandler& handler, const ControlRequest& request) {
  Result<std::string> answer =
      SharedMemoryJson(handler, request.route.endpoint, request.route.region, request.body);
  if (!answer.ok()) return ErrorAnswer(answer.status());
  if (answer->empty()) return EmptyAnswer(200);  // register, unregister
  return JsonAnswer(std::move(answer).value());
}

HttpAnswer LoggingAnswer(const ControlRequest& request) {
  if (request.method == Method::kPost) {
    auto updated = ApplyLogSettingsJson(request.body, observability::CurrentLogSettings());
    if (!updated.ok()) return ErrorAnswer(updated.status());
    Status s = observability::UpdateLogSettings(*updated);
    if (!s.ok()) return ErrorAnswer(s);
    spdlog::info("log settings changed: {}", LogSettingsJson(*updated));
  }
  return JsonAnswer(LogSettingsJson(observability::CurrentLogSettings()));
}

HttpAnswer RepositoryIndexAnswer(handler::RequestHandler& handler, std::string_view body) {
  bool ready_only = false;
  if (!body.empty()) {
    auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
      return ErrorAnswer(InvalidArgument("repository index body must be a JSON object"));
    }
    if (auto it = doc.find("ready"); it != doc.end()) {
      if (!it->is_boolean()) return ErrorAnswer(InvalidArgument("'ready' must be a boolean"));
      ready_only = it->get<bool>();
    }
  }
  return JsonAnswer(RepositoryIndexJson(handler.RepositoryIndex(ready_only)));
}

HttpAnswer RoutingAnswer(handler::RequestHandler& handler, const ControlRequest& request) {
  const Route& route = request.route;
  Result<std::string> policy = InvalidArgument("no policy");
  if (route.endpoint == Endpoint::kModelRollback) {
    policy = handler.Rollback(route.model);
  } else {
    auto doc = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("policy") ||
        !doc["policy"].is_string()) {
      return ErrorAnswer(InvalidArgument(
          "routing body must be {\"policy\": \"latest\" | \"pinned:<version>\" | "
          "\"weighted:<version>=<weight>,...\"}"));
    }
    policy = handler.SetRouting(route.model, doc["policy"].get<std::string>());
  }
  if (!policy.ok()) return ErrorAnswer(policy.status());
  return JsonAnswer(nlohmann::json{{"name", route.model}, {"routing", *policy}}.dump());
}

// /v2/jobs and /v2/jobs/{id} (see jobs_http.h); 404 when jobs are off.
HttpAnswer JobAnswer(const HttpServer::Options& options, const ControlRequest& request) {
  if (options.jobs == nullptr) {
    return ErrorAnswer(NotFound(
        "asynchronous jobs are not enabled on this server (start it with --jobs-db PATH)"));
  }
  const std::string owner = jobs::OwnerOf(request.authorization);
  if (request.route.endpoint == Endpoint::kJobList) {
    return ListJobs(*options.jobs, owner, request.target);
  }
  if (request.method == Method::kDelete) {
    return DeleteJob(*options.jobs, owner, request.route.job_id);
  }
  return GetJob(*options.jobs, owner, request.route.job_id);
}

HttpAnswer MetricsAnswer(handler::RequestHandler& handler, const HttpServer::Options& options) {
  HttpAnswer answer;
  answer.content_type = kPrometheusContentType;
  answer.body = handler.MetricsText();
  if (options.jobs != nullptr) answer.body += options.jobs->MetricsText();
  if (options.payload_logger != nullptr) answer.body += options.payload_logger->MetricsText();
  return answer;
}

}  // namespace

HttpAnswer AnswerControl(handler::RequestHandler& handler, const HttpServer::Options& options,
                         const ControlRequest& request) {
  const Route& route = request.route;
  switch (route.endpoint) {
    case Endpoint::kHealthLive:
      return HealthAnswer(handler.IsLive());
    case Endpoint::kHealthReady:
      return HealthAnswer(handler.IsReady());
    case Endpoint::kServerMetadata:
      return JsonAnswer(ServerMetadataJson(handler.ServerMetadata()));
    case Endpoint::kModelMetadata: {
      auto m = handler.ModelMetadata(route.model, route.version);
      if (!m.ok()) return ErrorAnswer(m.status());
      return JsonAnswer(ModelMetadataJson(*m));
    }
    case Endpoint::kModelReady: {
      Status s = handler.ModelReady(route.model, route.version);
      if (s.code() == StatusCode::kNotFound) return ErrorAnswer(s);
      // KServe v2: 200 when ready, a 4xx when not (Triton answers 400).
      return EmptyAnswer(s.ok() ? 200 : 400);
    }
    case Endpoint::kModelConfig: {
      auto c = handler.ModelConfigJson(route.model, route.version);
      if (!c.ok()) return ErrorAnswer(c.status());
      return JsonAnswer(std::move(c).value());
    }
    case Endpoint::kModelStatistics: {
      auto stats = handler.ModelStatistics(route.model, route.version);
      if (!stats.ok()) return ErrorAnswer(stats.status());
      return JsonAnswer(ModelStatisticsJson(*stats));
    }
    case Endpoint::kRepositoryIndex:
      return RepositoryIndexAnswer(handler, request.body);
    case Endpoint::kModelRouting:
    case Endpoint::kModelRollback:
      return RoutingAnswer(handler, request);
    case Endpoint::kJobList:
    case Endpoint::kJob:
      return JobAnswer(options, request);
    case Endpoint::kMetrics:
      return MetricsAnswer(handler, options);
    case Endpoint::kLogging:
      return LoggingAnswer(request);
    case Endpoint::kTraceSetting:
      return TraceSettingAnswer(handler, request);
    case Endpoint::kShmStatus:
    case Endpoint::kShmRegister:
    case Endpoint::kShmUnregister:
      return SharedMemoryAnswer(handler, request);
    case Endpoint::kOpenApi:
      return WebFileAnswer("openapi.json");
    case Endpoint::kConsole:
      return WebFileAnswer("console/" + route.file);
    case Endpoint::kModelInfer:
    case Endpoint::kRepositoryLoad:
    case Endpoint::kRepositoryUnload:
      break;
  }
  return ErrorAnswer(Internal("endpoint answered by the session, not by AnswerControl"));
}

Result<std::optional<std::string>> ParseRepositoryControlBody(std::string_view body,
                                                              bool is_load) {
  std::optional<std::string> config_override;
  if (body.empty()) return config_override;
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgument("repository request body must be a JSON object");
  }
  if (auto it = doc.find("parameters"); it != doc.end() && it->is_object() &&
                                        it->contains("config")) {
    if (!is_load || !(*it)["config"].is_string()) {
      return InvalidArgument("parameters.config must be a string holding the model config as JSON");
    }
    config_override = (*it)["config"].get<std::string>();
  }
  return config_override;
}

}  // namespace inferd::http
