#include "repository/on_demand_loader.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

namespace inferd::repository {

OnDemandLoader::OnDemandLoader(LoadFunction load)
    : load_(std::move(load)) {}

OnDemandLoader::~OnDemandLoader() {
  std::map<std::string, std::vector<Callback>, std::less<>> abandoned;
  std::thread thread;
  {
    MutexLock lock(mu_);
    stopping_ = true;
    thread = std::move(thread_);
  }
  cv_.NotifyAll();
  if (thread.joinable()) thread.join();
  {
    MutexLock lock(mu_);
    abandoned = std::move(waiters_);
  }
  for (auto& [name, callbacks] : abandoned) {
    for (auto& cb : callbacks) cb(Unavailable("the server is shutting down"));
  }
}

void OnDemandLoader::Request(std::string_view name, Callback done) {
  {
    MutexLock lock(mu_);
    auto& waiting = waiters_[std::string(name)];
    waiting.push_back(std::move(done));
    if (waiting.size() > 1) return;  // joins the load already queued or running
    queue_.emplace_back(name);
    // Started by the first on-demand load: most servers never load on demand.
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  }
  cv_.NotifyAll();
}

bool OnDemandLoader::Pending(std::string_view name) const {
  MutexLock lock(mu_);
  return waiters_.find(name) != waiters_.end();
}

void OnDemandLoader::Loop() {
  pthread_setname_np(pthread_self(), "repo-loader");
  for (;;) {
    std::string name;
    {
      MutexLock lock(mu_);
      cv_.Wait(mu_, [this]() NO_THREAD_SAFETY_ANALYSIS { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      name = std::move(queue_.front());
      queue_.pop_front();
    }
    spdlog::info("model '{}': loading on demand", name);
    const Status s = load_(name);
    std::vector<Callback> callbacks;
    {
      MutexLock lock(mu_);
      auto it = waiters_.find(name);
      if (it != waiters_.end()) {
        callbacks = std::move(it->second);
        waiters_.erase(it);
      }
    }
    for (auto& cb : callbacks) cb(s);
  }
}

}  // namespace inferd::repository
