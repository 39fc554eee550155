// The HTTP face of every endpoint but inference: health, metadata, configuration, statistics,
// the repository index, routing and rollback, logging and trace settings, shared memory,
// metrics, jobs, and the OpenAPI document and console files. Pure functions from a routed
// request's parts to an HttpAnswer, so the session only reads, routes and writes (and answers
// inference and the repository's asynchronous load/unload itself). Internal to src/http.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "handler/request_handler.h"
#include "http/http_answer.h"
#include "http/http_server.h"
#include "http/router.h"

namespace inferd::http {

// A routed request, as the control endpoints read it.
struct ControlRequest {
  const Route& route;
  Method method = Method::kGet;
  std::string_view target;  // the request target, query string included (/v2/jobs pages)
  std::string_view body;
  std::optional<std::string_view> authorization;  // the Authorization header (jobs' owner)
};

// The answer to `request`. Inference and the repository's load and unload are not answered
// here (500 if asked): they finish later, on another thread.
HttpAnswer AnswerControl(handler::RequestHandler& handler, const HttpServer::Options& options,
                         const ControlRequest& request);

// The body of a repository load or unload: empty, or a JSON object whose optional
// "parameters": {"config": "<model config as JSON>"} (load only) overrides the model's
// config.pbtxt. The override, or none; INVALID_ARGUMENT naming the field otherwise.
Result<std::optional<std::string>> ParseRepositoryControlBody(std::string_view body,
                                                              bool is_load);

}  // namespace inferd::http
