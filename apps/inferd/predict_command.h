// `inferd predict`: batch prediction over a file, in-process through the server's own model
// repository and schedulers, or against running servers (--url). main.cc registers it with
// AddPredictCommand and, when it was parsed, calls RunPredictCommand. See docs/batch.md.
#pragma once

#include <CLI/CLI.hpp>

namespace inferd::app {

CLI::App* AddPredictCommand(CLI::App& app);

// The exit status: 0 every row scored, 2 some rows failed (see the error file), 1 the run
// could not finish (its checkpoint stays: the same command resumes it).
int RunPredictCommand();

}  // namespace inferd::app
