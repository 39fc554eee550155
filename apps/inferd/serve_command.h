// `inferd serve`: its command-line options (the flags of serve_flags.h) and the run.
#pragma once

#include <CLI/CLI.hpp>

namespace inferd::app {

CLI::App* AddServeCommand(CLI::App& app);

// Runs the server until SIGTERM/SIGINT and its drain end; the process's exit status.
int RunServeCommand();

}  // namespace inferd::app
