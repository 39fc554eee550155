// `inferd bench`: the load generator subcommand (closed-loop concurrency sweeps and open-loop
// request rates against an inferd — or any KServe v2 — server over HTTP or gRPC). main.cc
// registers it with AddBenchCommand and, when it was parsed, calls RunBenchCommand.
#pragma once

#include <CLI/CLI.hpp>

namespace inferd::app {

// Adds the `bench` subcommand and its flags to `app`; returns it so main can test parsed().
CLI::App* AddBenchCommand(CLI::App& app);

// Runs the parsed subcommand; the process exit status (0 when every level was measured).
int RunBenchCommand();

}  // namespace inferd::app
