// `inferd tune MODEL --url …`: Model Analyzer's job against a live inferd — sweeps instance
// count × engine threads × max batch × queue delay, loading each configuration through the
// repository load API (explicit control mode, a config override), measures it with the bench
// engine, and writes the best config.pbtxt, a table and an SVG of the throughput/p99 frontier.
#pragma once

#include <CLI/CLI.hpp>

namespace inferd::app {

CLI::App* AddTuneCommand(CLI::App& app);

// 0 when a best configuration was found and written; 1 otherwise.
int RunTuneCommand();

}  // namespace inferd::app
