#include "jobs/job_manager.h"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <chrono>
#include <random>

#include <fmt/format.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include "observability/http_post.h"
#include "protocol/v2_json_codec.h"

namespace inferd::jobs {
namespace {

std::string Hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

// One inference's outcome, handed from whichever thread completes it to the waiting worker.
class Completion {
 public:
  void Set(Result<InferenceResponse> result) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    result_.emplace(std::move(result));
    cv_.NotifyAll();
  }
  Result<InferenceResponse> Wait() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    cv_.Wait(mu_, [this]() REQUIRES(mu_) { return result_.has_value(); });
    return std::move(*result_);
  }

 private:
  Mutex mu_;
  CondVar cv_;
  std::optional<Result<InferenceResponse>> result_ GUARDED_BY(mu_);
};

}  // namespace

int64_t UnixMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NewJobId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // OpenSSL's generator failed (not seeded): fall back to the OS's.
    std::random_device rd;
    for (auto& b : bytes) b = static_cast<unsigned char>(rd());
  }
  return Hex(bytes, sizeof bytes);
}

std::string OwnerOf(std::optional<std::string_view> authorization) {
  if (!authorization) return "";
  std::string_view v = *authorization;
  constexpr std::string_view kBearer = "Bearer ";
  if (v.size() > kBearer.size() && std::equal(kBearer.begin(), kBearer.end(), v.begin(),
                                              [](char a, char b) {
                                                return std::tolower(a) == std::tolower(b);
                                              })) {
    v.remove_prefix(kBearer.size());
  }
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  if (v.empty()) return "";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(v.data()), v.size(), digest);
  return Hex(digest, sizeof digest);
}

Result<std::unique_ptr<JobManager>> JobManager::Create(Options options) {
  if (options.db_path.empty()) return InvalidArgument("jobs need a database path (--jobs-db)");
  if (!options.runner) return InvalidArgument("jobs need a runner");
  if (options.max_queued == 0) return InvalidArgument("--jobs-max-queued must be positive");
  if (options.workers < 1) return InvalidArgument("--jobs-workers must be positive");
  if (options.ttl_seconds < 0) return InvalidArgument("--jobs-ttl-secs must not be negative");
  ASSIGN_OR_RETURN(auto store, JobStore::Open(options.db_path));
  const int64_t now = UnixMillisNow();
  ASSIGN_OR_RETURN(const int interrupted, store->RecoverInterrupted(now));
  if (interrupted > 0) {
    spdlog::warn("jobs: {} job(s) were running when the server stopped; failed as "
                 "'interrupted by restart'", interrupted);
  }
  ASSIGN_OR_RETURN(auto queued, store->QueuedIds());
  ASSIGN_OR_RETURN(auto callbacks, store->PendingCallbacks());
  std::unique_ptr<JobManager> manager(new JobManager(std::move(options), std::move(store)));
  {
    MutexLock lock(manager->mu_);
    manager->queue_.assign(queued.begin(), queued.end());
  }
  for (const auto& job : callbacks) manager->callbacks_.Enqueue(job);
  spdlog::info("jobs: database '{}', {} queued job(s) resumed", manager->options_.db_path,
               queued.size());
  for (int i = 0; i < manager->options_.workers; ++i) {
    manager->threads_.emplace_back([m = manager.get()] { m->WorkerLoop(); });
  }
  manager->threads_.emplace_back([m = manager.get()] { m->SweeperLoop(); });
  return manager;
}

JobManager::JobManager(Options options, std::unique_ptr<JobStore> store)
    : options_(std::move(options)),
      store_(std::move(store)),
      callbacks_(store_.get(), options_.callbacks) {}

JobManager::~JobManager() { Stop(); }

void JobManager::Stop() {
  {
    MutexLock lock(mu_);
    if (stop_ && threads_.empty()) return;
    stop_ = true;
  }
  cv_.NotifyAll();
  sweep_cv_.NotifyAll();
  for (auto& t : threads_) t.join();
  threads_.clear();
  callbacks_.Stop();
}

Result<JobRecord> JobManager::Submit(std::string owner, std::string model, int64_t version,
                                     JobInput input, std::string callback_url) {
  if (!callback_url.empty()) {
    if (!options_.allow_callbacks) {
      return InvalidArgument("job callbacks are not enabled on this server (--jobs-callbacks)");
    }
    RETURN_IF_ERROR(observability::ValidateHttpUrl(callback_url, "job callback URL"));
  }
  JobRecord job;
  job.id = NewJobId();
  job.owner = std::move(owner);
  job.model = std::move(model);
  job.version = version;
  job.created_ms = UnixMillisNow();
  job.callback_url = std::move(callback_url);
  {
    MutexLock lock(mu_);
    if (stop_) return Unavailable("the server is shutting down; no new jobs");
    if (queue_.size() >= options_.max_queued) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return ResourceExhausted(fmt::format(
          "the job queue is full ({} queued jobs); retry later", options_.max_queued));
    }
    // Inserted under the lock, so the bound is exact (one short SQLite write).
    RETURN_IF_ERROR(store_->Insert(job, input));
    queue_.push_back(job.id);
  }
  submitted_.fetch_add(1, std::memory_order_relaxed);
  cv_.NotifyOne();
  return job;
}

Result<JobRecord> JobManager::Get(std::string_view owner, std::string_view id, bool with_result) {
  auto job = store_->Get(id, with_result);
  if (!job.ok()) return job.status();
  if (job->owner != owner) return NotFound(fmt::format("no job '{}'", id));
  return job;
}

Result<JobManager::CancelOutcome> JobManager::Cancel(std::string_view owner,
                                                     std::string_view id) {
  ASSIGN_OR_RETURN(JobRecord job, Get(owner, id, false));
  if (IsTerminal(job.state)) {
    RETURN_IF_ERROR(store_->Delete(id));
    return CancelOutcome{std::move(job), true};
  }
  ASSIGN_OR_RETURN(const bool cancelled, store_->Cancel(id, UnixMillisNow()));
  if (cancelled) {
    std::function<void()> cancel_inference;
    {
      MutexLock lock(mu_);
      if (auto it = std::find(queue_.begin(), queue_.end(), id); it != queue_.end()) {
        queue_.erase(it);
      }
      if (auto it = running_.find(id); it != running_.end()) cancel_inference = it->second;
    }
    if (cancel_inference) cancel_inference();
    Ended(std::string(id), JobState::kCancelled);
  }
  ASSIGN_OR_RETURN(job, store_->Get(id, false));
  return CancelOutcome{std::move(job), false};
}

Result<JobManager::Page> JobManager::List(std::string_view owner, std::string_view page_token,
                                          int limit) {
  if (limit < 1 || limit > 1000) {
    return InvalidArgument(fmt::format("limit {} is outside 1..1000", limit));
  }
  int64_t after = 0;
  if (!page_token.empty()) {
    auto [ptr, ec] = std::from_chars(page_token.data(), page_token.data() + page_token.size(), after);
    if (ec != std::errc() || ptr != page_token.data() + page_token.size() || after < 0) {
      return InvalidArgument(fmt::format("page_token '{}' is not one this server gave", page_token));
    }
  }
  Page page;
  ASSIGN_OR_RETURN(page.jobs, store_->List(owner, after, limit + 1));
  if (page.jobs.size() > static_cast<size_t>(limit)) {
    page.jobs.resize(static_cast<size_t>(limit));
    page.next_page_token = std::to_string(page.jobs.back().seq);
  }
  return page;
}

Result<int> JobManager::RemoveExpired() {
  if (options_.ttl_seconds == 0) return 0;
  ASSIGN_OR_RETURN(const int removed,
                   store_->DeleteFinishedBefore(UnixMillisNow() - options_.ttl_seconds * 1000));
  expired_.fetch_add(static_cast<uint64_t>(removed), std::memory_order_relaxed);
  return removed;
}

void JobManager::WorkerLoop() {
  for (;;) {
    std::string id;
    {
      MutexLock lock(mu_);
      cv_.Wait(mu_, [this]() REQUIRES(mu_) { return stop_ || !queue_.empty(); });
      if (stop_) return;
      id = std::move(queue_.front());
      queue_.pop_front();
      running_.emplace(id, nullptr);
    }
    RunJob(id);
    MutexLock lock(mu_);
    running_.erase(id);
  }
}

void JobManager::SweeperLoop() {
  for (;;) {
    {
      MutexLock lock(mu_);
      if (sweep_cv_.WaitFor(mu_, std::chrono::seconds(1), [this]() REQUIRES(mu_) { return stop_; })) {
        return;
      }
    }
    if (auto removed = RemoveExpired(); !removed.ok()) {
      spdlog::warn("jobs: removing expired jobs: {}", removed.status().message());
    }
  }
}

void JobManager::RunJob(const std::string& id) {
  auto fail = [&](const Status& why) {
    auto finished = store_->Finish(id, JobState::kFailed, why.message(), {}, std::nullopt,
                                   UnixMillisNow());
    if (finished.ok() && *finished) Ended(id, JobState::kFailed);
    if (!finished.ok()) spdlog::error("job {}: {}", id, finished.status().message());
  };
  auto started = store_->MarkRunning(id, UnixMillisNow());
  if (!started.ok()) {
    spdlog::error("job {}: {}", id, started.status().message());
    return;
  }
  if (!*started) return;  // cancelled while queued
  auto job = store_->Get(id, false);
  auto input = store_->GetInput(id);
  if (!job.ok() || !input.ok()) return fail(job.ok() ? input.status() : job.status());
  auto body = std::make_shared<std::string>(std::move(input->body));
  body->reserve(body->size() + protocol::kRequestBodyPadding);
  auto decoded = protocol::DecodeInferRequest(body, input->header_length);
  if (!decoded.ok()) return fail(decoded.status());
  InferenceRequest request = std::move(decoded).value();
  request.model_name = job->model;
  request.model_version = job->version;
  InferenceRequest answer_shape;  // what the encoder needs from the request
  answer_shape.parameters = request.parameters;
  answer_shape.outputs = request.outputs;

  auto completion = std::make_shared<Completion>();
  std::function<void()> cancel = options_.runner(
      std::move(request),
      [completion](Result<InferenceResponse> result) { completion->Set(std::move(result)); });
  {
    MutexLock lock(mu_);
    if (auto it = running_.find(id); it != running_.end()) it->second = cancel;
  }
  Result<InferenceResponse> result = completion->Wait();
  if (!result.ok()) return fail(result.status());
  protocol::EncodedInferResponse encoded;
  protocol::EncodeInferResponseInto(*result, answer_shape, encoded);
  auto finished = store_->Finish(id, JobState::kDone, "", encoded.body, encoded.header_length,
                                 UnixMillisNow());
  if (!finished.ok()) {
    spdlog::error("job {}: {}", id, finished.status().message());
    return;
  }
  if (*finished) Ended(id, JobState::kDone);
}

void JobManager::Ended(const std::string& id, JobState state) {
  switch (state) {
    case JobState::kDone: done_.fetch_add(1, std::memory_order_relaxed); break;
    case JobState::kFailed: failed_.fetch_add(1, std::memory_order_relaxed); break;
    case JobState::kCancelled: cancelled_.fetch_add(1, std::memory_order_relaxed); break;
    default: break;
  }
  auto job = store_->Get(id, false);
  if (job.ok() && !job->callback_url.empty()) callbacks_.Enqueue(*job);
}

std::string JobManager::MetricsText() {
  size_t queued = 0, running = 0;
  {
    MutexLock lock(mu_);
    queued = queue_.size();
    running = running_.size();
  }
  JobCounts held;
  if (auto counts = store_->Counts(); counts.ok()) held = *counts;
  std::string out;
  auto counter = [&](std::string_view name, std::string_view help) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} counter\n", name, help, name);
  };
  fmt::format_to(std::back_inserter(out),
                 "# HELP inferd_jobs_queued Asynchronous jobs waiting for a worker.\n"
                 "# TYPE inferd_jobs_queued gauge\ninferd_jobs_queued {}\n"
                 "# HELP inferd_jobs_running Asynchronous jobs running now.\n"
                 "# TYPE inferd_jobs_running gauge\ninferd_jobs_running {}\n"
                 "# HELP inferd_jobs_stored Jobs held in the job database, by state.\n"
                 "# TYPE inferd_jobs_stored gauge\n",
                 queued, running);
  const std::pair<std::string_view, int64_t> stored[] = {{"queued", held.queued},
                                                           {"running", held.running},
                                                           {"done", held.done},
                                                           {"failed", held.failed},
                                                           {"cancelled", held.cancelled}};
  for (const auto& entry : stored) {
    fmt::format_to(std::back_inserter(out), "inferd_jobs_stored{{state=\"{}\"}} {}\n",
                   entry.first, entry.second);
  }
  counter("inferd_jobs_submitted_total", "Jobs accepted since start.");
  fmt::format_to(std::back_inserter(out), "inferd_jobs_submitted_total {}\n", submitted_.load());
  counter("inferd_jobs_rejected_total", "Job submissions refused because the queue was full.");
  fmt::format_to(std::back_inserter(out), "inferd_jobs_rejected_total {}\n", rejected_.load());
  counter("inferd_jobs_completed_total", "Jobs that ended since start, by final state.");
  fmt::format_to(std::back_inserter(out),
                 "inferd_jobs_completed_total{{state=\"done\"}} {}\n"
                 "inferd_jobs_completed_total{{state=\"failed\"}} {}\n"
                 "inferd_jobs_completed_total{{state=\"cancelled\"}} {}\n",
                 done_.load(), failed_.load(), cancelled_.load());
  counter("inferd_jobs_expired_total", "Ended jobs removed after their TTL.");
  fmt::format_to(std::back_inserter(out), "inferd_jobs_expired_total {}\n", expired_.load());
  counter("inferd_jobs_callbacks_total", "Job completion callbacks, by outcome.");
  fmt::format_to(std::back_inserter(out),
                 "inferd_jobs_callbacks_total{{outcome=\"delivered\"}} {}\n"
                 "inferd_jobs_callbacks_total{{outcome=\"retried\"}} {}\n"
                 "inferd_jobs_callbacks_total{{outcome=\"given_up\"}} {}\n",
                 callbacks_.delivered(), callbacks_.retries(), callbacks_.given_up());
  return out;
}

}  // namespace inferd::jobs
