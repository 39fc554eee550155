// ModelUnloader: destroys retired model versions on its own thread. A version dies when its
// last holder (the repository or an in-flight request) lets go; that holder may be an engine
// worker of the very scheduler being destroyed, or an I/O thread that must not stall on a
// large model's teardown. The shared handles made by Adopt() therefore only queue the model
// here, and this thread runs the destructor. Owned by ModelRepository; thread-safe.
#pragma once

#include <deque>
#include <memory>
#include <thread>

#include "core/mutex.h"
#include "repository/servable_model.h"

namespace inferd::repository {

class ModelUnloader {
 public:
  ModelUnloader();
  // Waits until every adopted model has been released and destroyed, then stops the thread.
  ~ModelUnloader();
  ModelUnloader(const ModelUnloader&) = delete;
  ModelUnloader& operator=(const ModelUnloader&) = delete;

  // Shares `model`; when the last copy of the handle is dropped, the model is destroyed on
  // the unloader's thread.
  std::shared_ptr<const ServableModel> Adopt(std::unique_ptr<ServableModel> model) EXCLUDES(mu_);

  // Models adopted and not yet destroyed.
  size_t live() const EXCLUDES(mu_);

 private:
  void Retire(ServableModel* model) EXCLUDES(mu_);
  void Loop() EXCLUDES(mu_);

  mutable Mutex mu_;
  CondVar cv_;
  std::deque<std::unique_ptr<ServableModel>> retired_ GUARDED_BY(mu_);
  size_t live_ GUARDED_BY(mu_) = 0;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_ GUARDED_BY(mu_);  // started by the first retirement
};

}  // namespace inferd::repository
