// The remote processor (`backend: "remote"`, platform "inferd_remote"): a local stand-in for a
// model that another v2 server (another inferd, Triton) serves, so an ensemble step can run
// there — e.g. pre-processing on this server, the model on a GPU server. Parameters:
//   url          "http://host:port" of the other server's HTTP endpoint, or
//                "grpc://host:port" of its gRPC endpoint (required)
//   model_name   the model there (default: this model's name)
//   model_version  a version there (default: the remote's choice)
//   timeout_ms   the whole exchange's deadline (default 5000); a request's own deadline, when
//                sooner, bounds the call instead and is passed on, with its `traceparent`
// The config must declare the inputs and outputs. An unreachable server is BAD_GATEWAY (502),
// one that does not answer in time DEADLINE_EXCEEDED (504), both naming the server; the
// remote's own errors come back with their status. Each instance makes one call at a time,
// over a connection it keeps open: instance_group count is the number of concurrent remote
// calls (and connections).
#pragma once

#include <memory>

#include "backends/backend.h"
#include "backends/backend_registry.h"

namespace inferd::backends {

Result<std::unique_ptr<Backend>> CreateRemoteBackend();

// The registry entry (src/backends/CMakeLists.txt).
BackendFactory RemoteBackendFactory();

}  // namespace inferd::backends
