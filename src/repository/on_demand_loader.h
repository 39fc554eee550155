// OnDemandLoader: runs the model loads that traffic asks for — a request for a model that
// scaled to zero, was evicted, or (with lazy loading) was never loaded — on its own thread, so
// no I/O thread waits on an engine session. Concurrent requests for one model share a single
// load. Owned by ModelRepository; thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"

namespace inferd::repository {

class OnDemandLoader {
 public:
  using LoadFunction = std::function<Status(const std::string& name)>;
  using Callback = std::function<void(Status)>;

  // `load` runs on the loader thread, one model at a time.
  explicit OnDemandLoader(LoadFunction load);
  // Stops after the load in progress; callbacks still waiting get UNAVAILABLE.
  ~OnDemandLoader();
  OnDemandLoader(const OnDemandLoader&) = delete;
  OnDemandLoader& operator=(const OnDemandLoader&) = delete;

  // Queues a load of `name` (or joins the one queued or running) and calls `done` with its
  // outcome, on the loader thread.
  void Request(std::string_view name, Callback done) EXCLUDES(mu_);
  // True while a load of `name` is queued or running.
  bool Pending(std::string_view name) const EXCLUDES(mu_);

 private:
  void Loop() EXCLUDES(mu_);

  const LoadFunction load_;
  mutable Mutex mu_;
  CondVar cv_;
  std::deque<std::string> queue_ GUARDED_BY(mu_);
  std::map<std::string, std::vector<Callback>, std::less<>> waiters_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_ GUARDED_BY(mu_);  // started by the first request
};

}  // namespace inferd::repository
