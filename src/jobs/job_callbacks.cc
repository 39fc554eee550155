#include "jobs/job_callbacks.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "observability/http_post.h"

namespace inferd::jobs {

std::string JobJson(const JobRecord& job) {
  nlohmann::json doc = {{"id", job.id},
                        {"state", JobStateName(job.state)},
                        {"model_name", job.model},
                        {"attempts", job.attempts},
                        {"created_unix_ms", job.created_ms}};
  if (job.version > 0) doc["model_version"] = std::to_string(job.version);
  if (job.started_ms > 0) doc["started_unix_ms"] = job.started_ms;
  if (job.finished_ms > 0) doc["finished_unix_ms"] = job.finished_ms;
  if (!job.error.empty()) doc["error"] = job.error;
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

CallbackSender::CallbackSender(JobStore* store, const Options& options)
    : store_(store), options_(options) {
  thread_ = std::thread([this] { Run(); });
}

CallbackSender::~CallbackSender() { Stop(); }

void CallbackSender::Stop() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.NotifyAll();
  if (thread_.joinable()) thread_.join();
}

void CallbackSender::Enqueue(const JobRecord& job) {
  {
    MutexLock lock(mu_);
    if (stop_) return;
    pending_.push_back({job.id, job.callback_url, JobJson(job), 0, Clock::now()});
  }
  cv_.NotifyAll();
}

void CallbackSender::Run() {
  for (;;) {
    Delivery d;
    {
      MutexLock lock(mu_);
      for (;;) {
        if (stop_) return;
        if (pending_.empty()) {
          cv_.Wait(mu_);
          continue;
        }
        auto next = std::min_element(pending_.begin(), pending_.end(),
                                     [](const Delivery& a, const Delivery& b) {
                                       return a.due < b.due;
                                     });
        if (next->due <= Clock::now()) {
          d = std::move(*next);
          pending_.erase(next);
          break;
        }
        cv_.WaitUntil(mu_, next->due);
      }
    }
    observability::HttpPostRequest post;
    post.url = d.url;
    post.timeout_ms = options_.timeout_ms;
    post.connect_timeout_ms = std::min(options_.timeout_ms, 2000L);
    post.body = d.body;
    post.headers = {{"Content-Type", "application/json"}, {"Inferd-Job-Id", d.id}};
    auto status = observability::HttpPost(post);
    ++d.attempts;
    const bool ok = status.ok() && *status >= 200 && *status < 300;
    if (ok || d.attempts >= options_.max_attempts) {
      if (ok) {
        delivered_.fetch_add(1, std::memory_order_relaxed);
      } else {
        given_up_.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("job {}: callback to {} given up after {} attempt(s): {}", d.id, d.url,
                     d.attempts,
                     status.ok() ? "HTTP " + std::to_string(*status) : status.status().message());
      }
      if (Status s = store_->MarkCallbackDone(d.id); !s.ok()) {
        spdlog::warn("job {}: {}", d.id, s.message());
      }
      continue;
    }
    retries_.fetch_add(1, std::memory_order_relaxed);
    const int64_t backoff_ms = options_.initial_backoff_ms << std::min(d.attempts - 1, 20);
    d.due = Clock::now() + std::chrono::milliseconds(backoff_ms);
    MutexLock lock(mu_);
    if (stop_) return;
    pending_.push_back(std::move(d));
  }
}

}  // namespace inferd::jobs
