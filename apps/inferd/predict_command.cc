#include "predict_command.h"

#include <fmt/format.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "batch/in_process_engine.h"
#include "batch/predict_job.h"
#include "batch/remote_engine.h"
#include "observability/logging.h"

namespace inferd::app {
namespace {

struct PredictFlags {
  std::vector<std::string> model_repositories;
  std::vector<std::string> urls;
  std::string protocol = "http";
  int retries = 3;
  int connections = 2;  // per --url
  std::string input_format;
  std::string output_format;
  std::string columns;
  std::string outputs;
  std::string shard = "0/1";
  int cpu_threads = 0;
  std::vector<std::string> backend_config;
  double progress_seconds = 10;
  std::string log_level = "warn";
  batch::PredictOptions job;
};

PredictFlags& Flags() {
  static PredictFlags flags;
  return flags;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) items.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

int AvailableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Prints progress to stderr: a line rewritten in place on a terminal, a line every
// --progress-secs otherwise.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(double interval_seconds)
      : tty_(isatty(STDERR_FILENO) != 0), interval_(tty_ ? 0.2 : interval_seconds) {}

  void Update(const batch::PredictProgress& p) {
    if (interval_ <= 0 || p.seconds - last_ < interval_) return;
    last_ = p.seconds;
    // On a terminal: back to the line's start, the line, then clear what a longer one left.
    std::fprintf(stderr, "%s%s%s", tty_ ? "\r" : "", Line(p).c_str(), tty_ ? "\033[K" : "\n");
    std::fflush(stderr);
  }
  void Done() {
    if (tty_ && last_ > 0) std::fprintf(stderr, "\r\033[K");  // the summary takes its place
  }

  static std::string Line(const batch::PredictProgress& p) {
    const double rate = p.seconds > 0 ? static_cast<double>(p.rows_this_run) / p.seconds : 0;
    std::string eta = "?";
    if (p.end_position > 0 && p.position > 0 && p.seconds > 0) {
      const double done = static_cast<double>(p.position) / static_cast<double>(p.end_position);
      eta = fmt::format("{:.0f}s", p.seconds * (1 - done) / std::max(done, 1e-9));
      return fmt::format("predict: {} rows ({} failed), {:.0f} rows/s, {:.1f}% read, ETA {}",
                         p.rows_ok + p.rows_failed, p.rows_failed, rate, 100 * done, eta);
    }
    return fmt::format("predict: {} rows ({} failed), {:.0f} rows/s", p.rows_ok + p.rows_failed,
                       p.rows_failed, rate);
  }

 private:
  bool tty_;
  double interval_;
  double last_ = 0;
};

Result<std::unique_ptr<batch::PredictEngine>> MakeEngine(const PredictFlags& flags) {
  if (!flags.urls.empty()) {
    batch::RemoteEngine::Options options;
    options.urls = flags.urls;
    options.protocol = flags.protocol;
    options.retries = flags.retries;
    options.connections_per_url = flags.connections;
    ASSIGN_OR_RETURN(auto engine, batch::RemoteEngine::Create(options));
    return std::unique_ptr<batch::PredictEngine>(std::move(engine));
  }
  server::InferenceServer::Options options;
  options.model_repositories = flags.model_repositories;
  options.cpu_cores =
      static_cast<unsigned>(flags.cpu_threads > 0 ? flags.cpu_threads : AvailableCores());
  ASSIGN_OR_RETURN(options.backend_config, backends::ParseBackendConfig(flags.backend_config));
  ASSIGN_OR_RETURN(auto engine, batch::InProcessEngine::Create(options, flags.job.model));
  return std::unique_ptr<batch::PredictEngine>(std::move(engine));
}

Status Prepare(PredictFlags& flags) {
  batch::PredictOptions& job = flags.job;
  ASSIGN_OR_RETURN(job.reader.format, batch::ResolveFormat(flags.input_format, job.input));
  ASSIGN_OR_RETURN(job.output_format, batch::ResolveFormat(flags.output_format, job.output));
  job.reader.columns = SplitList(flags.columns);
  job.outputs = SplitList(flags.outputs);
  if (std::sscanf(flags.shard.c_str(), "%d/%d", &job.shard_index, &job.shard_count) != 2) {
    return InvalidArgument(fmt::format("--shard '{}': want I/N, e.g. 0/4", flags.shard));
  }
  if (flags.urls.empty() && flags.model_repositories.empty()) {
    return InvalidArgument("give --model-repository (in-process) or --url (running servers)");
  }
  return Status::Ok();
}

}  // namespace

CLI::App* AddPredictCommand(CLI::App& app) {
  PredictFlags& f = Flags();
  CLI::App* cmd =
      app.add_subcommand("predict",
                         "Score a file of rows (JSON Lines, CSV, .npy/.npz) in-process or against "
                         "running servers; resumable (see docs/batch.md)");
  cmd->add_option("--model-repository", f.model_repositories,
                  "Model repository (as for serve): run the model in this process")
      ->take_all();
  cmd->add_option("--url", f.urls,
                  "A running server: http://host:port, or host:port with --protocol grpc; repeat "
                  "for a fleet; "
                  "instead of --model-repository");
  cmd->add_option("--protocol", f.protocol, "With --url: http (binary tensors) or grpc (v2)")
      ->check(CLI::IsMember({"http", "grpc"}))
      ->capture_default_str();
  cmd->add_option("--retries", f.retries, "With --url: tries of a failed batch on other servers")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--connections", f.connections, "With --url: connections per server")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--model", f.job.model, "The model to score with")->required();
  cmd->add_option("--input", f.job.input, "Input file: .jsonl, .csv, .npy or .npz")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--output", f.job.output, "Output file: .jsonl, .csv, .npy or .npz")->required();
  cmd->add_option("--errors", f.job.errors,
                  "Bad rows, JSON Lines of {line, error} (default: <output>.errors.jsonl; "
                  "removed when no row failed)");
  cmd->add_option("--input-format", f.input_format, "jsonl, csv, npy or npz (default: extension)")
      ->check(CLI::IsMember({"jsonl", "csv", "npy", "npz"}));
  cmd->add_option("--output-format", f.output_format, "jsonl, csv, npy or npz (default: extension)")
      ->check(CLI::IsMember({"jsonl", "csv", "npy", "npz"}));
  cmd->add_option("--columns", f.columns,
                  "CSV input: the columns that make a row, by header name, comma separated "
                  "(default: all)");
  cmd->add_option("--outputs", f.outputs,
                  "Outputs to write, comma separated, in this order (default: all)");
  cmd->add_option("--classification", f.job.classification,
                  "Write each output's top K classes (\"score:index[:label]\") instead of scores")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--fail-fast", f.job.fail_fast, "Stop at the first bad row");
  cmd->add_option("--shard", f.shard,
                  "I/N: score blocks I, I+N, I+2N, ... (a Kubernetes Indexed Job's pod I of N)")
      ->capture_default_str();
  cmd->add_option("--block-rows", f.job.block_rows,
                  "Rows a block: the unit of checkpoints and shards")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--batch-size", f.job.batch_rows,
                  "Rows a request at most (default: the model's max_batch_size)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--in-flight", f.job.in_flight_blocks, "Blocks sent ahead of the one written")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--checkpoint-secs", f.job.checkpoint_seconds,
                  "Seconds between checkpoints (0: after every block)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--progress-secs", f.progress_seconds,
                  "Without a terminal: seconds between progress lines (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--cpu-threads", f.cpu_threads, "The CPU budget, as for serve (0: the cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--backend-config", f.backend_config, "Engine setting, as for serve");
  cmd->add_option("--log-level", f.log_level, "Server log level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  return cmd;
}

int RunPredictCommand() {
  PredictFlags& flags = Flags();
  observability::LogSettings log_settings;
  log_settings.level = flags.log_level;
  (void)observability::ConfigureLogging(log_settings);
  if (Status s = Prepare(flags); !s.ok()) {
    std::fprintf(stderr, "predict: %s\n", s.message().c_str());
    return 1;
  }
  auto engine = MakeEngine(flags);
  if (!engine.ok()) {
    std::fprintf(stderr, "predict: %s\n", engine.status().message().c_str());
    return 1;
  }
  ProgressPrinter printer(flags.progress_seconds);
  auto summary = batch::PredictJob::Run(
      **engine, flags.job, [&printer](const batch::PredictProgress& p) { printer.Update(p); });
  printer.Done();
  engine->reset();
  if (!summary.ok()) {
    std::fprintf(stderr, "predict: %s (the checkpoint stays: run the same command to resume)\n",
                 summary.status().message().c_str());
    return 1;
  }
  const batch::PredictProgress& p = summary->progress;
  std::fprintf(stderr,
               "predict: done%s: %lld rows scored, %lld failed%s, %lld read this run in %.2fs "
               "(%.0f rows/s) -> %s\n",
               summary->resumed ? " (resumed)" : "", static_cast<long long>(p.rows_ok),
               static_cast<long long>(p.rows_failed),
               summary->stopped_at_bad_row ? " (stopped at the first: --fail-fast)" : "",
               static_cast<long long>(p.rows_this_run), p.seconds,
               p.seconds > 0 ? static_cast<double>(p.rows_this_run) / p.seconds : 0.0,
               flags.job.output.c_str());
  if (p.rows_failed > 0) {
    std::fprintf(
        stderr, "predict: bad rows are listed in %s\n",
        (flags.job.errors.empty() ? flags.job.output + ".errors.jsonl" : flags.job.errors).c_str());
    return 2;
  }
  return 0;
}

}  // namespace inferd::app
