// Mutex and lock types annotated for clang's -Wthread-safety analysis, so that lock rules
// (GUARDED_BY, REQUIRES, EXCLUDES) are checked by the compiler rather than stated in comments.
// Under GCC the annotations compile to nothing and these are thin wrappers of std::mutex.
#pragma once

#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define INFERD_TSA(x) __attribute__((x))
#else
#define INFERD_TSA(x)
#endif

// Abseil (pulled in by grpc++) defines some of the same names; ours win wherever this header
// comes later, and both expand to the same clang attributes.
#undef GUARDED_BY
#undef PT_GUARDED_BY
#undef NO_THREAD_SAFETY_ANALYSIS
#define CAPABILITY(x) INFERD_TSA(capability(x))
#define SCOPED_CAPABILITY INFERD_TSA(scoped_lockable)
#define GUARDED_BY(x) INFERD_TSA(guarded_by(x))
#define PT_GUARDED_BY(x) INFERD_TSA(pt_guarded_by(x))
#define REQUIRES(...) INFERD_TSA(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) INFERD_TSA(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) INFERD_TSA(acquire_capability(__VA_ARGS__))
#define RELEASE(...) INFERD_TSA(release_capability(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS INFERD_TSA(no_thread_safety_analysis)

namespace inferd {

class CAPABILITY("mutex") Mutex {
 public:
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// Condition variable usable with Mutex. Wait() must be called with `mu` held.
class CondVar {
 public:
  template <typename Predicate>
  void Wait(Mutex& mu, Predicate pred) REQUIRES(mu) NO_THREAD_SAFETY_ANALYSIS {
    std::unique_lock<std::mutex> lock(mu.native(), std::adopt_lock);
    cv_.wait(lock, pred);
    lock.release();
  }
  template <typename Predicate, typename Duration>
  bool WaitFor(Mutex& mu, Duration d, Predicate pred) REQUIRES(mu) NO_THREAD_SAFETY_ANALYSIS {
    std::unique_lock<std::mutex> lock(mu.native(), std::adopt_lock);
    bool r = cv_.wait_for(lock, d, pred);
    lock.release();
    return r;
  }
  void Wait(Mutex& mu) REQUIRES(mu) NO_THREAD_SAFETY_ANALYSIS {
    std::unique_lock<std::mutex> lock(mu.native(), std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // Returns false on timeout.
  template <typename TimePoint>
  bool WaitUntil(Mutex& mu, TimePoint deadline) REQUIRES(mu) NO_THREAD_SAFETY_ANALYSIS {
    std::unique_lock<std::mutex> lock(mu.native(), std::adopt_lock);
    const bool notified = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return notified;
  }
  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace inferd
