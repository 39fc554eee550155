// Runs `inferd serve`: the model server, its request handlers and frontends (HTTP, gRPC, the
// metrics listener) as the flags describe, until SIGTERM/SIGINT; then the drain and an orderly
// shutdown.
#pragma once

#include "serve_flags.h"

namespace inferd::app {

// The process's exit status: EXIT_FAILURE when a part could not start (the reason logged).
int Serve(const ServeFlags& flags);

}  // namespace inferd::app
