#include "bench/load_generator.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace inferd::bench {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// Pause after a failed request before the next one, so a dead server is not spun against.
constexpr auto kErrorBackoff = std::chrono::milliseconds(10);

struct Sample {
  uint32_t latency_us;  // from due time (open loop) or send time (closed loop) to completion
  bool ok;
  // For a success: its place in the level's success count (the value `ok` had before it), so
  // a window's latencies are exactly the successes the window counted.
  uint64_t ok_index;
};

// State shared by the virtual users of one level; counters are relaxed atomics read by the
// controlling thread at window edges.
struct LevelState {
  Clock::time_point start;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> ok{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<int64_t> in_flight{0};
  const std::vector<uint64_t>* schedule = nullptr;  // open loop only
  std::atomic<size_t> next_due{0};
};

// One connection and its send loop. Handlers of one user never run concurrently: it has at most
// one operation (timer or request) outstanding.
class VirtualUser {
 public:
  VirtualUser(LevelState& state, asio::io_context& io, std::unique_ptr<InferClient> client)
      : state_(state), timer_(io), client_(std::move(client)) {
    samples_.reserve(4096);
  }

  void Next() {
    if (state_.stop.load(std::memory_order_relaxed)) return;
    if (state_.schedule != nullptr) {
      const size_t i = state_.next_due.fetch_add(1, std::memory_order_relaxed);
      if (i >= state_.schedule->size()) return;
      due_ = state_.start + std::chrono::nanoseconds((*state_.schedule)[i]);
      if (due_ > Clock::now()) {
        state_.in_flight.fetch_add(1, std::memory_order_relaxed);
        timer_.expires_at(due_);
        timer_.async_wait([this](boost::system::error_code ec) {
          if (ec || state_.stop.load(std::memory_order_relaxed)) {
            state_.in_flight.fetch_sub(1, std::memory_order_relaxed);
            return;
          }
          client_->Send(&done_);
        });
        return;
      }
    } else {
      due_ = Clock::now();
    }
    state_.in_flight.fetch_add(1, std::memory_order_relaxed);
    client_->Send(&done_);
  }

  std::vector<Sample>& samples() { return samples_; }

 private:
  void OnDone(bool ok) {
    const auto now = Clock::now();
    const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(now - due_);
    const uint64_t index =
        (ok ? state_.ok : state_.errors).fetch_add(1, std::memory_order_relaxed);
    samples_.push_back({static_cast<uint32_t>(latency.count()), ok, index});
    if (ok) {
      state_.in_flight.fetch_sub(1, std::memory_order_relaxed);
      Next();
      return;
    }
    // in_flight stays held by the back-off wait.
    timer_.expires_after(kErrorBackoff);
    timer_.async_wait([this](boost::system::error_code) {
      state_.in_flight.fetch_sub(1, std::memory_order_relaxed);
      Next();
    });
  }

  LevelState& state_;
  asio::steady_timer timer_;
  std::unique_ptr<InferClient> client_;
  InferClient::Done done_ = [this](bool ok) { OnDone(ok); };
  Clock::time_point due_;
  std::vector<Sample> samples_;
};

struct Edge {
  uint64_t t_ns = 0;
  uint64_t ok = 0;
  uint64_t errors = 0;
  std::optional<ServerStatsSnapshot> server;
};

bool WaitDrained(const LevelState& state, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (state.in_flight.load(std::memory_order_relaxed) > 0) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// The counts, throughput, latencies and server statistics of `result` between two window
// edges.
void MeasureBetween(const Edge& first, const Edge& last,
                    const std::vector<std::unique_ptr<VirtualUser>>& users, LevelResult& result) {
  result.ok = last.ok - first.ok;
  result.errors = last.errors - first.errors;
  result.measured_s = static_cast<double>(last.t_ns - first.t_ns) / 1e9;
  result.throughput_rps = result.measured_s > 0 ? result.ok / result.measured_s : 0;
  std::vector<uint64_t> latencies;
  latencies.reserve(result.ok);
  for (const auto& u : users) {
    for (const Sample& s : u->samples()) {
      // By count, not by time: a completion stamped just before an edge may be counted just
      // after it.
      if (s.ok && s.ok_index >= first.ok && s.ok_index < last.ok) {
        latencies.push_back(s.latency_us);
      }
    }
  }
  result.latency = SummarizeLatencies(latencies);
  if (first.server && last.server) result.server = DiffServerStats(*first.server, *last.server);
}

}  // namespace

Result<LevelResult> RunLevel(const LevelOptions& options, const ClientFactory& make_client,
                             const StatsFetcher& fetch_stats, const std::string& model,
                             const ProgressFn& progress) {
  const bool open_loop = options.request_rate > 0;
  const int users_count = open_loop ? options.max_connections : options.concurrency;
  const int stable_windows = std::max(1, options.stable_windows);
  const int max_windows = std::max(stable_windows, options.max_windows);

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  LevelState state;
  ArrivalSchedule schedule(options.arrival, options.request_rate, options.seed);
  if (open_loop) {
    schedule.Generate(options.warmup_s + options.window_s * (max_windows + 1));
    state.schedule = &schedule.offsets_ns();
  }
  std::vector<std::unique_ptr<VirtualUser>> users;
  for (int i = 0; i < users_count; ++i) {
    auto client = make_client(io);
    RETURN_IF_ERROR(client->Connect());
    users.push_back(std::make_unique<VirtualUser>(state, io, std::move(client)));
  }

  bool stats_enabled = static_cast<bool>(fetch_stats);
  // A window edge: the client's counts, then the server's statistics. The two cannot be read
  // at one instant while requests are in flight — a response the server has counted may not
  // have reached the client yet — so the client's and the server's count of a window may
  // differ by up to the requests in flight at its edges (at most the concurrency), in either
  // direction; no request is lost or counted twice. Throughput is the client's count; the
  // server's statistics give only per-request averages, which this does not skew.
  auto take_edge = [&] {
    Edge e;
    e.t_ns = static_cast<uint64_t>((Clock::now() - state.start).count());
    e.ok = state.ok.load(std::memory_order_relaxed);
    e.errors = state.errors.load(std::memory_order_relaxed);
    if (stats_enabled) {
      auto text = fetch_stats();
      auto snap = text.ok() ? ParseServerStats(*text, model) : Result<ServerStatsSnapshot>(
                                                                   text.status());
      if (snap.ok()) {
        e.server = *snap;
      } else {
        stats_enabled = false;  // e.g. a plain HTTP server without the statistics endpoint
      }
    }
    return e;
  };

  state.start = Clock::now();
  for (auto& u : users) asio::post(io, [user = u.get()] { user->Next(); });
  std::vector<std::thread> threads;
  for (int i = 0; i < std::max(1, options.io_threads); ++i) threads.emplace_back([&] { io.run(); });

  auto to_ns = [](double s) { return std::chrono::nanoseconds(static_cast<int64_t>(s * 1e9)); };
  std::this_thread::sleep_until(state.start + to_ns(options.warmup_s));
  std::vector<Edge> edges{take_edge()};
  std::vector<double> throughputs;
  LevelResult result;
  for (int w = 1; w <= max_windows; ++w) {
    std::this_thread::sleep_until(state.start + std::chrono::nanoseconds(edges.back().t_ns) +
                                  to_ns(options.window_s));
    edges.push_back(take_edge());
    const Edge& a = edges[edges.size() - 2];
    const Edge& b = edges.back();
    const double secs = static_cast<double>(b.t_ns - a.t_ns) / 1e9;
    throughputs.push_back(secs > 0 ? static_cast<double>(b.ok - a.ok) / secs : 0);
    result.windows = w;
    if (progress) progress(w, throughputs.back(), b.errors);
    if (w >= stable_windows && IsStable(throughputs, stable_windows, options.stability)) {
      result.stable = true;
      break;
    }
  }

  // Stop: let requests in flight (and open-loop waits, at most one arrival gap) finish.
  state.stop.store(true);
  const bool drained = WaitDrained(state, std::chrono::seconds(10));
  work.reset();
  io.stop();
  for (auto& t : threads) t.join();

  const Edge& first = edges[edges.size() - 1 - static_cast<size_t>(
                                               std::min<int>(stable_windows, result.windows))];
  result.concurrency = open_loop ? options.max_connections : options.concurrency;
  result.request_rate = options.request_rate;
  MeasureBetween(first, edges.back(), users, result);
  // A request that never completed (a hung gRPC call, whose callback runs on gRPC's threads)
  // still references its user: leak the users rather than free memory a late callback touches.
  if (!drained) {
    for (auto& u : users) (void)u.release();
  }
  return result;
}

}  // namespace inferd::bench
