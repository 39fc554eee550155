#include "grpc/infer_pollers.h"

#include <pthread.h>

#include <algorithm>
#include <string>

#include "grpc/inference_service.h"

namespace inferd::grpc {

InferPollers::InferPollers(const Options& options, InferenceService* service,
                           handler::RequestHandler* handler)
    : options_(options) {
  shared_.service = service;
  shared_.handler = handler;
  shared_.payload_logger = options.payload_logger;
}

InferPollers::~InferPollers() {
  StopAccepting();
  Stop();
}

void InferPollers::AddTo(::grpc::ServerBuilder& builder) {
  const int threads = std::max(1, options_.threads);
  for (int i = 0; i < threads; ++i) queues_.push_back(builder.AddCompletionQueue());
}

void InferPollers::Start() {
  for (auto& cq : queues_) {
    for (int i = 0; i < std::max(1, options_.requested_per_queue); ++i) {
      AsyncInferCall::Request(&shared_, cq.get());
    }
  }
  for (size_t i = 0; i < queues_.size(); ++i) {
    threads_.emplace_back([this, cq = queues_[i].get(), i] {
      const std::string name = "grpc-infer-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      Poll(cq);
    });
  }
}

void InferPollers::Poll(::grpc::ServerCompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) AsyncInferCall::Handle(tag, ok);
}

void InferPollers::StopAccepting() { shared_.accepting.store(false, std::memory_order_release); }

void InferPollers::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (!threads_.empty()) {
    // The server is shut down: requested calls come back not-ok and calls in progress end
    // (answered, or cancelled past the grace period); their last tags need the threads running.
    // A completion queue may only be shut down once nothing can enqueue on it any more.
    MutexLock lock(shared_.live_mu);
    shared_.none_live.Wait(shared_.live_mu,
                           [this] { return shared_.live.load(std::memory_order_acquire) == 0; });
  }
  for (auto& cq : queues_) cq->Shutdown();
  for (auto& t : threads_) t.join();
  // Drain what is left (nothing, when the threads ran; the requested calls' tags otherwise).
  for (auto& cq : queues_) {
    void* tag = nullptr;
    bool ok = false;
    while (cq->Next(&tag, &ok)) AsyncInferCall::Handle(tag, ok);
  }
}

}  // namespace inferd::grpc
