#include "bench_command.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "bench/grpc_infer_client.h"
#include "bench/http_infer_client.h"
#include "bench/load_generator.h"
#include "bench/load_schedule.h"
#include "bench/report.h"
#include "bench/request_data.h"

namespace inferd::app {
namespace {

struct BenchFlags {
  std::string url;
  std::string model;
  std::string protocol = "http";
  std::string concurrency = "1";
  std::string request_rate;
  std::string arrival = "constant";
  int max_connections = 64;
  double duration_s = 3;
  double warmup_s = 1;
  int stable_windows = 3;
  int max_windows = 10;
  double stability_percent = 10;
  std::string input_data = "random";
  int64_t batch_size = 1;
  bool binary = false;
  int threads = 0;
  uint64_t seed = 1;
  std::string json_path;
  std::string csv_path;
  std::string svg_path;
  bool quiet = false;
};

BenchFlags& Flags() {
  static BenchFlags flags;
  return flags;
}

Status WriteFile(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return Status::Ok();
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) return Unavailable("cannot write '" + path + "'");
  return Status::Ok();
}

Result<std::vector<Tensor>> BuildInputs(const BenchFlags& f, const bench::HttpTarget& http) {
  if (f.input_data != "zero" && f.input_data != "random") {
    return bench::LoadInputsFromFile(f.input_data);
  }
  Result<std::string> metadata =
      f.protocol == "grpc" ? bench::GrpcModelMetadataJson(f.url, f.model)
                           : bench::HttpGet(http, "/v2/models/" + f.model);
  if (!metadata.ok()) return metadata.status().WithContext("model metadata");
  ASSIGN_OR_RETURN(auto specs, bench::ParseModelInputs(*metadata));
  return bench::MakeInputs(specs, f.batch_size,
                           f.input_data == "zero" ? bench::InputFill::kZero
                                                  : bench::InputFill::kRandom,
                           f.seed);
}

// The load levels the flags ask for: each concurrency of --concurrency, or each rate of
// --request-rate, on the same settings.
Result<std::vector<bench::LevelOptions>> Levels(const BenchFlags& f) {
  bench::LevelOptions base;
  base.max_connections = f.max_connections;
  base.warmup_s = f.warmup_s;
  base.stable_windows = f.stable_windows;
  base.window_s = f.duration_s / std::max(1, f.stable_windows);
  base.max_windows = f.max_windows;
  base.stability = f.stability_percent / 100.0;
  base.seed = f.seed;
  base.arrival = f.arrival == "poisson" ? bench::Arrival::kPoisson : bench::Arrival::kConstant;
  // Leave cores to the server on a shared machine: one I/O thread per two cores, at most 4.
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  base.io_threads = f.threads > 0 ? f.threads : std::clamp(cores / 2, 1, 4);
  std::vector<bench::LevelOptions> levels;
  if (!f.request_rate.empty()) {
    auto rates = bench::ParseRange(f.request_rate);
    if (!rates.ok()) return rates.status().WithContext("--request-rate");
    for (double r : *rates) {
      levels.push_back(base);
      levels.back().request_rate = r;
    }
    return levels;
  }
  auto conc = bench::ParseConcurrencyRange(f.concurrency);
  if (!conc.ok()) return conc.status().WithContext("--concurrency");
  for (int c : *conc) {
    levels.push_back(base);
    levels.back().concurrency = c;
  }
  return levels;
}

// The --json, --csv and --svg reports that were asked for.
Status WriteReports(const BenchFlags& f, const bench::RunInfo& info,
                    const std::vector<bench::LevelResult>& results) {
  if (!f.json_path.empty()) {
    RETURN_IF_ERROR(WriteFile(f.json_path, bench::FormatJson(info, results)));
  }
  if (!f.csv_path.empty()) RETURN_IF_ERROR(WriteFile(f.csv_path, bench::FormatCsv(results)));
  if (!f.svg_path.empty()) {
    RETURN_IF_ERROR(WriteFile(f.svg_path, bench::FormatSvg(info, results)));
  }
  return Status::Ok();
}

int Run(BenchFlags f) {
  const bool grpc = f.protocol == "grpc";
  if (f.url.empty()) f.url = grpc ? "127.0.0.1:8001" : "http://127.0.0.1:8000";
  bench::HttpTarget http;
  if (!grpc) {
    auto target = bench::ParseHttpUrl(f.url);
    if (!target.ok()) {
      fmt::print(stderr, "inferd bench: {}\n", target.status().message());
      return 2;
    }
    http = *target;
  }

  auto levels = Levels(f);
  if (!levels.ok()) {
    fmt::print(stderr, "inferd bench: {}\n", levels.status().message());
    return 2;
  }

  auto inputs = BuildInputs(f, http);
  if (!inputs.ok()) {
    fmt::print(stderr, "inferd bench: {}\n", inputs.status().message());
    return 1;
  }
  // Request bytes are built once; every connection sends the same ones.
  std::shared_ptr<const std::string> http_request;
  std::shared_ptr<const inference::ModelInferRequest> grpc_request;
  if (grpc) {
    grpc_request = bench::MakeGrpcInferRequest(f.model, *inputs);
  } else {
    bench::HttpBody body = bench::EncodeHttpRequest(*inputs, f.binary);
    http_request =
        std::make_shared<const std::string>(bench::HttpInferClient::SerializeInferRequest(
            http, "/v2/models/" + f.model + "/infer", body.body, body.header_length));
  }
  bench::ClientFactory make_client =
      [&](boost::asio::io_context& io) -> std::unique_ptr<bench::InferClient> {
    if (grpc) return std::make_unique<bench::GrpcInferClient>(f.url, grpc_request);
    return std::make_unique<bench::HttpInferClient>(io, http, http_request);
  };
  bench::StatsFetcher fetch_stats = [&]() -> Result<std::string> {
    if (grpc) return bench::GrpcStatisticsJson(f.url, f.model);
    return bench::HttpGet(http, "/v2/models/" + f.model + "/stats");
  };

  bench::RunInfo info;
  info.url = f.url;
  info.model = f.model;
  info.protocol = f.protocol;
  info.encoding = grpc ? "raw" : (f.binary ? "binary" : "json");
  info.input_data = f.input_data;
  info.batch_size = static_cast<int>(f.batch_size);
  info.mode = f.request_rate.empty() ? "concurrency" : "request-rate";
  info.arrival = f.request_rate.empty() ? "" : f.arrival;

  const bool tty = isatty(STDERR_FILENO) != 0;
  std::vector<bench::LevelResult> results;
  for (size_t i = 0; i < levels->size(); ++i) {
    const auto& level = (*levels)[i];
    const std::string name = level.request_rate > 0
                                 ? fmt::format("rate {:g}/s", level.request_rate)
                                 : fmt::format("concurrency {}", level.concurrency);
    bench::ProgressFn progress = [&](int window, double rps, uint64_t errors) {
      if (f.quiet) return;
      fmt::print(stderr, "{}[{}/{}] {}: window {} {:.1f} req/s, {} errors{}", tty ? "\r" : "",
                 i + 1, levels->size(), name, window, rps, errors, tty ? "   " : "\n");
    };
    auto result = bench::RunLevel(level, make_client, fetch_stats, f.model, progress);
    if (!f.quiet && tty) fmt::print(stderr, "\n");
    if (!result.ok()) {
      fmt::print(stderr, "inferd bench: {}: {}\n", name, result.status().message());
      return 1;
    }
    results.push_back(*result);
  }

  fmt::print("{}", bench::FormatTable(info, results));
  std::fflush(stdout);
  if (Status s = WriteReports(f, info, results); !s.ok()) {
    fmt::print(stderr, "inferd bench: {}\n", s.message());
    return 1;
  }
  return 0;
}

}  // namespace

CLI::App* AddBenchCommand(CLI::App& app) {
  BenchFlags& f = Flags();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Measure a server: throughput and latency per concurrency level or request rate");
  cmd->add_option("--url", f.url,
                  "Server address: http://host:port (HTTP, default http://127.0.0.1:8000) or "
                  "host:port (gRPC, default 127.0.0.1:8001)");
  cmd->add_option("--model", f.model, "Model to send inference requests to")->required();
  cmd->add_option("--protocol", f.protocol, "http or grpc")
      ->check(CLI::IsMember({"http", "grpc"}))
      ->capture_default_str();
  auto* conc = cmd->add_option("--concurrency", f.concurrency,
                               "Closed-loop levels: N, A,B,C, START:END[:STEP] or START:END:xF")
                   ->capture_default_str();
  cmd->add_option("--request-rate", f.request_rate,
                  "Open-loop levels in requests/s (same range syntax)")
      ->excludes(conc);
  cmd->add_option("--arrival", f.arrival, "Open-loop arrivals: constant or poisson")
      ->check(CLI::IsMember({"constant", "poisson"}))
      ->capture_default_str();
  cmd->add_option("--max-connections", f.max_connections,
                  "Open loop: connections that carry the due requests")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--duration", f.duration_s,
                  "Seconds measured per level (split into --stable-windows windows)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--warmup", f.warmup_s, "Seconds of load before measuring each level")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--stable-windows", f.stable_windows,
                  "Consecutive windows whose throughput must agree")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--stability-percent", f.stability_percent,
                  "Allowed deviation of a window from the windows' mean")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-windows", f.max_windows, "Windows before giving up on stability")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--input-data", f.input_data,
                  "zero, random, or a JSON file holding a v2 infer request body")
      ->capture_default_str();
  cmd->add_option("--batch-size", f.batch_size, "Rows per request (the first variable dim)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--binary", f.binary, "HTTP: send inputs and ask for outputs as binary data");
  cmd->add_option("--threads", f.threads, "Client I/O threads (0 = cores/2, 1..4)")
      ->capture_default_str();
  cmd->add_option("--seed", f.seed, "Seed of random inputs and Poisson arrivals")
      ->capture_default_str();
  cmd->add_option("--json", f.json_path, "Write the results as JSON to this file (- = stdout)");
  cmd->add_option("--csv", f.csv_path, "Write the results as CSV to this file (- = stdout)");
  cmd->add_option("--svg", f.svg_path, "Write a latency/throughput plot (SVG) to this file");
  cmd->add_flag("--quiet", f.quiet, "No progress line");
  return cmd;
}

int RunBenchCommand() { return Run(Flags()); }

}  // namespace inferd::app
