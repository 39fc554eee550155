#include "repository/model_unloader.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

namespace inferd::repository {

ModelUnloader::ModelUnloader() = default;

ModelUnloader::~ModelUnloader() {
  std::thread thread;
  {
    MutexLock lock(mu_);
    stopping_ = true;
    // Versions still held by requests are destroyed by the thread once released.
    if (live_ > 0 && !thread_.joinable()) thread_ = std::thread([this] { Loop(); });
    thread = std::move(thread_);
  }
  cv_.NotifyAll();
  if (thread.joinable()) thread.join();
}

std::shared_ptr<const ServableModel> ModelUnloader::Adopt(std::unique_ptr<ServableModel> model) {
  {
    MutexLock lock(mu_);
    ++live_;
  }
  return std::shared_ptr<const ServableModel>(
      model.release(), [this](const ServableModel* m) { Retire(const_cast<ServableModel*>(m)); });
}

size_t ModelUnloader::live() const {
  MutexLock lock(mu_);
  return live_;
}

void ModelUnloader::Retire(ServableModel* model) {
  {
    MutexLock lock(mu_);
    retired_.emplace_back(model);
    // Started by the first retirement: a server that never unloads holds no thread for it.
    if (!thread_.joinable() && !stopping_) thread_ = std::thread([this] { Loop(); });
  }
  cv_.NotifyAll();
}

void ModelUnloader::Loop() {
  pthread_setname_np(pthread_self(), "model-unloader");
  MutexLock lock(mu_);
  for (;;) {
    // Stop only when asked to and every adopted model is gone: in-flight requests may still
    // hold versions when the repository is destroyed.
    cv_.Wait(mu_, [this]() NO_THREAD_SAFETY_ANALYSIS {
      return !retired_.empty() || (stopping_ && live_ == 0);
    });
    if (retired_.empty()) return;
    std::unique_ptr<ServableModel> model = std::move(retired_.front());
    retired_.pop_front();
    mu_.Unlock();
    const std::string name = model->name();
    const int64_t version = model->version();
    model.reset();  // joins the scheduler's workers after they drain the queue
    spdlog::info("model '{}' version {}: unloaded", name, version);
    mu_.Lock();
    --live_;
  }
}

}  // namespace inferd::repository
