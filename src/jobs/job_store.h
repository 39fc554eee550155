// JobStore: the durable side of asynchronous inference jobs — one SQLite database (WAL
// journal) holding each job's state, its request body (until it finishes) and its encoded
// result, so that jobs survive a restart or a crash of the server. Pure storage: JobManager
// decides what runs when. Every method is one short transaction; thread-safe (one connection
// behind a mutex). Times are Unix milliseconds, passed in by the caller (testable clock).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"

struct sqlite3;

namespace inferd::jobs {

// queued → running → done | failed;  queued | running → cancelled (DELETE).
// A job found `running` when the store is opened was interrupted by a crash or restart: it is
// failed then (RecoverInterrupted), never silently run a second time.
enum class JobState { kQueued, kRunning, kDone, kFailed, kCancelled };
std::string_view JobStateName(JobState state);
bool IsTerminal(JobState state);

struct JobRecord {
  std::string id;            // 32 lowercase hex characters, unguessable
  int64_t seq = 0;           // submission order; the list endpoint pages by it
  std::string owner;         // SHA-256 (hex) of the creator's bearer token; "" without one
  std::string model;
  int64_t version = 0;       // the version the URL named; 0 = the routing policy's choice
  JobState state = JobState::kQueued;
  int attempts = 0;          // times the job was started
  std::string error;         // why it failed or was cancelled
  int64_t created_ms = 0, started_ms = 0, finished_ms = 0;
  std::string callback_url;  // POSTed to when the job ends; "" = none
  // Only with Get(..., with_result = true) on a done job: the v2 response as the synchronous
  // infer endpoint would have answered it.
  std::string result;
  std::optional<size_t> result_header_length;  // set: binary extension (octet-stream)
};

struct JobInput {
  std::string body;                      // the v2 request body as received
  std::optional<size_t> header_length;   // Inference-Header-Content-Length, when sent
};

struct JobCounts {
  int64_t queued = 0, running = 0, done = 0, failed = 0, cancelled = 0;
};

class JobStore {
 public:
  // Opens or creates the database at `path` (WAL mode). INVALID_ARGUMENT naming the path when
  // it cannot be opened or is not a job database.
  static Result<std::unique_ptr<JobStore>> Open(const std::string& path);
  ~JobStore();

  Status Insert(const JobRecord& job, const JobInput& input) EXCLUDES(mu_);
  // NOT_FOUND when there is no such job.
  Result<JobRecord> Get(std::string_view id, bool with_result) EXCLUDES(mu_);
  Result<JobInput> GetInput(std::string_view id) EXCLUDES(mu_);
  // queued → running, attempts + 1. False when the job is no longer queued (cancelled).
  Result<bool> MarkRunning(std::string_view id, int64_t now_ms) EXCLUDES(mu_);
  // running → done (with `result`) or failed (with `error`); the request body is dropped.
  // False when the job is no longer running (cancelled meanwhile): nothing is stored then.
  Result<bool> Finish(std::string_view id, JobState state, std::string_view error,
                      std::string_view result, std::optional<size_t> result_header_length,
                      int64_t now_ms) EXCLUDES(mu_);
  // queued | running → cancelled. False when the job had already ended.
  Result<bool> Cancel(std::string_view id, int64_t now_ms) EXCLUDES(mu_);
  Status Delete(std::string_view id) EXCLUDES(mu_);
  // `owner`'s jobs with seq > after_seq, oldest first, at most `limit` (results not loaded).
  Result<std::vector<JobRecord>> List(std::string_view owner, int64_t after_seq, int limit)
      EXCLUDES(mu_);
  // At start-up: every job still `running` becomes failed, "interrupted by restart". Returns
  // how many.
  Result<int> RecoverInterrupted(int64_t now_ms) EXCLUDES(mu_);
  // Queued jobs' ids, oldest first.
  Result<std::vector<std::string>> QueuedIds() EXCLUDES(mu_);
  // Removes ended jobs that finished before `cutoff_ms`. Returns how many.
  Result<int> DeleteFinishedBefore(int64_t cutoff_ms) EXCLUDES(mu_);
  // Ended jobs whose callback has not been delivered (or given up on) yet.
  Result<std::vector<JobRecord>> PendingCallbacks() EXCLUDES(mu_);
  Status MarkCallbackDone(std::string_view id) EXCLUDES(mu_);
  Result<JobCounts> Counts() EXCLUDES(mu_);

 private:
  explicit JobStore(sqlite3* db) : db_(db) {}
  Status Exec(const char* sql) REQUIRES(mu_);

  Mutex mu_;
  sqlite3* const db_;  // owned; used only under mu_
};

}  // namespace inferd::jobs
