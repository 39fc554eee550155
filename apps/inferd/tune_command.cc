#include "tune_command.h"

#include <fmt/format.h>
#include <google/protobuf/text_format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bench/config_sweep.h"
#include "bench/http_infer_client.h"
#include "bench/load_generator.h"
#include "bench/request_data.h"
#include "config/model_config_json.h"

namespace inferd::app {
namespace {

struct TuneFlags {
  std::string model;
  std::string url = "http://127.0.0.1:8000";
  std::string instances = "1,2";
  std::string threads = "1";
  std::string max_batch = "0,8";
  std::string queue_delay_us = "0,1000";
  int concurrency = 4;
  double request_rate = 0;
  std::string objective = "throughput";
  double p99_budget_ms = 0;
  double duration_s = 2;
  double warmup_s = 0.5;
  int64_t batch_size = 1;
  std::string out_dir;
  bool keep_best = false;
};

TuneFlags& Flags() {
  static TuneFlags flags;
  return flags;
}

Result<std::vector<int64_t>> ParseList(const std::string& name, const std::string& text) {
  std::vector<int64_t> values;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    try {
      size_t used = 0;
      const long long v = std::stoll(item, &used);
      if (used != item.size() || v < 0) throw 0;
      values.push_back(v);
    } catch (...) {
      return InvalidArgument(fmt::format("{}: '{}' is not a non-negative integer", name, item));
    }
    start = end + 1;
  }
  return values;
}

std::vector<int> Ints(const std::vector<int64_t>& v) { return {v.begin(), v.end()}; }

Status WriteText(const std::filesystem::path& path, const std::string& text) {
  const auto tmp = path.string() + ".tmp";
  std::ofstream out(tmp, std::ios::trunc);
  out << text;
  out.close();
  std::error_code ec;
  if (out) std::filesystem::rename(tmp, path, ec);
  if (!out || ec) return Unavailable(fmt::format("cannot write '{}'", path.string()));
  return Status::Ok();
}

int Fail(const Status& s) {
  fmt::print(stderr, "inferd tune: {}\n", s.message());
  return 1;
}

// How one sweep point is measured: the load generator's client and statistics, for `model`.
struct Measurement {
  const bench::ClientFactory& make_client;
  const bench::StatsFetcher& fetch_stats;
  const std::string& model;
};

// Loads `config` (sweep point `p`) through the repository API and measures it at `level`;
// progress goes to stderr under `name`.
bench::SweepResult MeasurePoint(const bench::SweepPoint& p, const std::string& config,
                                const std::string& name, bool tty, const bench::HttpTarget& target,
                                const bench::LevelOptions& level, const Measurement& m) {
  bench::SweepResult r;
  r.point = p;
  nlohmann::json load = {{"parameters", {{"config", config}}}};
  fmt::print(stderr, "{}{}: loading{}", tty ? "\r\033[K" : "", name, tty ? "" : "\n");
  auto loaded = bench::HttpPost(target, "/v2/repository/models/" + m.model + "/load", load.dump());
  if (!loaded.ok()) {
    r.error = std::string(loaded.status().message());
    return r;
  }
  bench::ProgressFn progress = [&](int window, double rps, uint64_t errors) {
    fmt::print(stderr, "{}{}: window {} {:.1f} req/s, {} errors{}", tty ? "\r\033[K" : "", name,
               window, rps, errors, tty ? "" : "\n");
  };
  auto measured = bench::RunLevel(level, m.make_client, m.fetch_stats, m.model, progress);
  if (!measured.ok()) {
    r.error = std::string(measured.status().message());
    return r;
  }
  r.ok = true;
  r.throughput_rps = measured->throughput_rps;
  r.p50_ms = measured->latency.p50_us / 1000.0;
  r.p99_ms = measured->latency.p99_us / 1000.0;
  r.errors = measured->errors;
  r.stable = measured->stable;
  return r;
}

// After the sweep: loads `best` (a config as JSON) when given, else the model's own
// config.pbtxt again.
void LeaveLoaded(const bench::HttpTarget& target, const std::string& model,
                 const std::string* best) {
  const std::string path = "/v2/repository/models/" + model + "/load";
  if (best == nullptr) {
    auto restored = bench::HttpPost(target, path, "{}");
    if (!restored.ok()) {
      fmt::print(stderr, "inferd tune: reload: {}\n", restored.status().message());
    }
    return;
  }
  nlohmann::json load = {{"parameters", {{"config", *best}}}};
  auto kept = bench::HttpPost(target, path, load.dump());
  if (!kept.ok()) fmt::print(stderr, "inferd tune: keep best: {}\n", kept.status().message());
}

}  // namespace

CLI::App* AddTuneCommand(CLI::App& app) {
  TuneFlags& f = Flags();
  CLI::App* cmd = app.add_subcommand(
      "tune",
      "Sweep a live server's serving configuration for a model (instances, threads, "
      "max batch, queue delay) and write the best config.pbtxt");
  cmd->add_option("model", f.model,
                  "Model to tune (the server runs --model-control-mode "
                  "explicit)")
      ->required();
  cmd->add_option("--url", f.url, "The server, http://host:port")->capture_default_str();
  cmd->add_option("--instances", f.instances, "Instance counts, comma-separated")
      ->capture_default_str();
  cmd->add_option("--threads", f.threads, "ORT intra-op threads per instance")
      ->capture_default_str();
  cmd->add_option("--max-batch", f.max_batch, "max_batch_size values (0 = no batching)")
      ->capture_default_str();
  cmd->add_option("--queue-delay-us", f.queue_delay_us, "Dynamic batching queue delays")
      ->capture_default_str();
  cmd->add_option("--concurrency", f.concurrency, "Closed-loop clients per measurement")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--request-rate", f.request_rate,
                  "Open loop at this rate (requests/s) instead of closed loop");
  cmd->add_option("--objective", f.objective,
                  "throughput (max, within --p99-budget-ms) or latency (min p99 at "
                  "--request-rate)")
      ->check(CLI::IsMember({"throughput", "latency"}))
      ->capture_default_str();
  cmd->add_option("--p99-budget-ms", f.p99_budget_ms, "p99 budget for --objective throughput");
  cmd->add_option("--duration", f.duration_s, "Seconds measured per configuration")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--warmup", f.warmup_s, "Seconds of load before measuring")
      ->capture_default_str();
  cmd->add_option("--batch-size", f.batch_size, "Rows per request")->capture_default_str();
  cmd->add_option("--out", f.out_dir, "Directory for config.pbtxt, tune.txt, frontier.svg")
      ->required();
  cmd->add_flag("--keep-best", f.keep_best,
                "Leave the best configuration loaded (default: reload the model's own config)");
  return cmd;
}

namespace {

// Prints the sweep's table and writes it, the frontier SVG and the best config.pbtxt under
// --out; the command's exit status (1 when no configuration met the objective).
int WriteOutputs(const TuneFlags& f, const std::vector<bench::SweepPoint>& grid,
                 const std::vector<bench::SweepResult>& results,
                 const std::vector<std::string>& configs, std::optional<size_t> best) {
  const std::string table = bench::FormatSweepTable(results, best);
  fmt::print("{}", table);
  std::error_code ec;
  std::filesystem::create_directories(f.out_dir, ec);
  const std::filesystem::path out(f.out_dir);
  Status s = WriteText(out / "tune.txt", table);
  if (s.ok()) s = WriteText(out / "frontier.svg", bench::FormatFrontierSvg(f.model, results, best));
  if (!s.ok()) return Fail(s);
  if (!best) {
    fmt::print(stderr,
               "inferd tune: no configuration met the objective; no config.pbtxt "
               "written\n");
    return 1;
  }
  auto proto = config::ModelConfigFromJson(configs[*best]);
  if (!proto.ok()) return Fail(proto.status());
  std::string text;
  google::protobuf::TextFormat::PrintToString(*proto, &text);
  if (s = WriteText(out / "config.pbtxt", text); !s.ok()) return Fail(s);
  fmt::print(
      "best: instances {} threads {} max batch {} delay {}us: {:.1f} req/s, p99 {:.2f} ms "
      "-> {}\n",
      grid[*best].instances, grid[*best].threads, grid[*best].max_batch, grid[*best].queue_delay_us,
      results[*best].throughput_rps, results[*best].p99_ms, (out / "config.pbtxt").string());
  return 0;
}

}  // namespace

int RunTuneCommand() {
  TuneFlags& f = Flags();
  bench::Objective objective;
  if (f.objective == "latency") {
    if (f.request_rate <= 0) {
      return Fail(InvalidArgument("--objective latency needs --request-rate"));
    }
    objective.kind = bench::Objective::Kind::kMinLatency;
    objective.rate_rps = f.request_rate;
  }
  objective.p99_budget_ms = f.p99_budget_ms;
  auto instances = ParseList("--instances", f.instances);
  auto threads = ParseList("--threads", f.threads);
  auto batches = ParseList("--max-batch", f.max_batch);
  auto delays = ParseList("--queue-delay-us", f.queue_delay_us);
  for (const auto* list : {&instances, &threads, &batches, &delays}) {
    if (!list->ok()) return Fail(list->status());
  }
  auto target = bench::ParseHttpUrl(f.url);
  if (!target.ok()) return Fail(target.status());
  const std::string model_path = "/v2/models/" + f.model;
  auto base_config = bench::HttpGet(*target, model_path + "/config");
  if (!base_config.ok()) return Fail(base_config.status().WithContext("model config"));
  auto metadata = bench::HttpGet(*target, model_path);
  if (!metadata.ok()) return Fail(metadata.status().WithContext("model metadata"));
  auto specs = bench::ParseModelInputs(*metadata);
  if (!specs.ok()) return Fail(specs.status());
  auto inputs = bench::MakeInputs(*specs, f.batch_size, bench::InputFill::kRandom, 1);
  if (!inputs.ok()) return Fail(inputs.status());
  bench::HttpBody body = bench::EncodeHttpRequest(*inputs, /*binary=*/true);
  auto request = std::make_shared<const std::string>(bench::HttpInferClient::SerializeInferRequest(
      *target, model_path + "/infer", body.body, body.header_length));
  bench::ClientFactory make_client =
      [&](boost::asio::io_context& io) -> std::unique_ptr<bench::InferClient> {
    return std::make_unique<bench::HttpInferClient>(io, *target, request);
  };
  bench::StatsFetcher fetch_stats = [&]() {
    return bench::HttpGet(*target, model_path + "/stats");
  };

  bench::LevelOptions level;
  level.concurrency = f.concurrency;
  level.request_rate = f.request_rate;
  level.warmup_s = f.warmup_s;
  level.stable_windows = 2;
  level.window_s = f.duration_s / 2;
  level.max_windows = 4;
  level.io_threads = 1;

  const auto grid = bench::SweepGrid(Ints(*instances), Ints(*threads), Ints(*batches), *delays);
  const bool tty = isatty(STDERR_FILENO) != 0;
  std::vector<bench::SweepResult> results;
  std::vector<std::string> configs;
  for (size_t i = 0; i < grid.size(); ++i) {
    const bench::SweepPoint& p = grid[i];
    const std::string name =
        fmt::format("[{}/{}] instances {} threads {} max batch {} delay {}us", i + 1, grid.size(),
                    p.instances, p.threads, p.max_batch, p.queue_delay_us);
    auto config = bench::ApplySweepPoint(*base_config, p);
    configs.push_back(config.ok() ? *config : std::string());
    if (!config.ok()) {
      bench::SweepResult r;
      r.point = p;
      r.error = std::string(config.status().message());
      results.push_back(r);
      continue;
    }
    results.push_back(MeasurePoint(p, *config, name, tty, *target, level,
                                   {make_client, fetch_stats, f.model}));
  }
  if (tty) fmt::print(stderr, "\n");

  const auto best = bench::ChooseBest(results, objective);
  LeaveLoaded(*target, f.model, f.keep_best && best ? &configs[*best] : nullptr);
  return WriteOutputs(f, grid, results, configs, best);
}

}  // namespace inferd::app
