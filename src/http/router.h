// Maps an HTTP method and target to a KServe v2 endpoint. Pure (no sockets, no server state),
// so it is unit-tested and fuzzed on its own; HttpServer calls it for every request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "security/authorizer.h"

namespace inferd::http {

enum class Endpoint {
  kHealthLive,       // GET  /v2/health/live
  kHealthReady,      // GET  /v2/health/ready
  kServerMetadata,   // GET  /v2
  kModelMetadata,    // GET  /v2/models/{m}[/versions/{v}]
  kModelReady,       // GET  /v2/models/{m}[/versions/{v}]/ready
  kModelConfig,      // GET  /v2/models/{m}[/versions/{v}]/config
  kModelInfer,       // POST /v2/models/{m}[/versions/{v}]/infer
  kModelStatistics,  // GET  /v2/models/stats, /v2/models/{m}[/versions/{v}]/stats
  kRepositoryIndex,  // POST /v2/repository/index
  kRepositoryLoad,   // POST /v2/repository/models/{m}/load
  kRepositoryUnload, // POST /v2/repository/models/{m}/unload
  kModelRouting,     // POST /v2/repository/models/{m}/routing  {"policy": "weighted:2=90,3=10"}
  kModelRollback,    // POST /v2/repository/models/{m}/rollback
  kMetrics,          // GET  /metrics (Prometheus text exposition)
  kLogging,          // GET, POST /v2/logging (log settings)
  kTraceSetting,     // GET, POST /v2/trace/setting, /v2/models/{m}/trace/setting
  kShmStatus,        // GET  /v2/systemsharedmemory[/region/{r}]/status
  kShmRegister,      // POST /v2/systemsharedmemory/region/{r}/register
  kShmUnregister,    // POST /v2/systemsharedmemory[/region/{r}]/unregister
  kJobList,          // GET  /v2/jobs?page_token=..&limit=.. (asynchronous jobs)
  kJob,              // GET, DELETE /v2/jobs/{id}
  kOpenApi,          // GET  /v2/openapi.json (the OpenAPI 3 description of this API)
  kConsole,          // GET  /console, /console/{file} (the web console's static files)
};

enum class Method { kGet, kHead, kPost, kDelete, kOther };

struct Route {
  Endpoint endpoint = Endpoint::kHealthLive;
  std::string model;         // percent-decoded model name, for model endpoints
  std::string region;        // percent-decoded shared-memory region name; empty = all
  std::string file;          // the console file asked for ("index.html" for /console)
  int64_t version = 0;       // 0 when the URL names no version
  Method method = Method::kGet;  // the method this endpoint takes (HEAD is accepted for GET)
  bool also_post = false;        // a GET endpoint that POST updates too (/v2/logging)
  bool also_delete = false;      // a GET endpoint that DELETE removes too (/v2/jobs/{id})
  std::string job_id;            // /v2/jobs/{id}
};

// NOT_FOUND for a path that is no endpoint; INVALID_ARGUMENT for a malformed model name or
// version. The query string, if any, is ignored. The caller compares `method` with the
// request's and answers 405 on a mismatch.
Result<Route> MatchRoute(std::string_view target);

// The API group an endpoint belongs to, which decides the credentials it needs (health probes
// and model readiness are health; the repository API, routing and rollback model-repository).
// The console's files are health too: they hold no data, and a browser loads them without a
// token; every API call the page makes carries its own.
security::ApiCategory ApiCategoryOf(Endpoint endpoint);

// "%2F" → "/"; INVALID_ARGUMENT for a malformed escape.
Result<std::string> PercentDecode(std::string_view s);

}  // namespace inferd::http
