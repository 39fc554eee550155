#include "jobs/job_store.h"

#include <sqlite3.h>

#include <fmt/format.h>

namespace inferd::jobs {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  owner TEXT NOT NULL,
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL DEFAULT 0,
  finished_ms INTEGER NOT NULL DEFAULT 0,
  callback_url TEXT NOT NULL DEFAULT '',
  callback_pending INTEGER NOT NULL DEFAULT 0,
  input BLOB,
  input_header_length INTEGER,
  result BLOB,
  result_header_length INTEGER);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs(owner, seq);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, finished_ms);
)sql";

constexpr const char* kColumns =
    "id, seq, owner, model, version, state, attempts, error, created_ms, started_ms, "
    "finished_ms, callback_url";

// One prepared statement, finalized on scope exit. Bind indexes start at 1, columns at 0.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& BindBlob(int i, std::string_view bytes) {
    sqlite3_bind_blob64(stmt_, i, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& Bind(int i, std::optional<size_t> v) {
    if (v) sqlite3_bind_int64(stmt_, i, static_cast<int64_t>(*v));
    else sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() {
    if (rc_ != SQLITE_OK) return rc_;
    return sqlite3_step(stmt_);
  }
  Status Run() {
    const int rc = Step();
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::Ok();
    return Error();
  }
  Status Error() const { return Internal(fmt::format("job store: {}", sqlite3_errmsg(db_))); }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }
  int Changes() const { return sqlite3_changes(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

JobState StateFromName(std::string_view name) {
  if (name == "queued") return JobState::kQueued;
  if (name == "running") return JobState::kRunning;
  if (name == "done") return JobState::kDone;
  if (name == "cancelled") return JobState::kCancelled;
  return JobState::kFailed;
}

JobRecord ReadRecord(const Statement& s) {
  JobRecord r;
  r.id = s.Text(0);
  r.seq = s.Int(1);
  r.owner = s.Text(2);
  r.model = s.Text(3);
  r.version = s.Int(4);
  r.state = StateFromName(s.Text(5));
  r.attempts = static_cast<int>(s.Int(6));
  r.error = s.Text(7);
  r.created_ms = s.Int(8);
  r.started_ms = s.Int(9);
  r.finished_ms = s.Int(10);
  r.callback_url = s.Text(11);
  return r;
}

}  // namespace

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued: return "queued";
    case JobState::kRunning: return "running";
    case JobState::kDone: return "done";
    case JobState::kFailed: return "failed";
    case JobState::kCancelled: return "cancelled";
  }
  return "failed";
}

bool IsTerminal(JobState state) {
  return state != JobState::kQueued && state != JobState::kRunning;
}

Result<std::unique_ptr<JobStore>> JobStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return InvalidArgument(fmt::format("job database '{}' cannot be opened: {}", path, why));
  }
  std::unique_ptr<JobStore> store(new JobStore(db));
  MutexLock lock(store->mu_);
  sqlite3_busy_timeout(db, 5000);
  // WAL: readers never block the writer; NORMAL sync survives a process crash (kill -9), and
  // loses at most the last commits on a power cut.
  for (const char* sql : {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=NORMAL;", kSchema}) {
    if (Status s = store->Exec(sql); !s.ok()) {
      return InvalidArgument(
          fmt::format("job database '{}' cannot be used: {}", path, s.message()));
    }
  }
  return store;
}

JobStore::~JobStore() { sqlite3_close(db_); }

Status JobStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : "unknown error";
    sqlite3_free(err);
    return Internal(fmt::format("job store: {}", why));
  }
  return Status::Ok();
}

Status JobStore::Insert(const JobRecord& job, const JobInput& input) {
  MutexLock lock(mu_);
  Statement s(db_,
              "INSERT INTO jobs (id, owner, model, version, state, created_ms, callback_url, "
              "input, input_header_length) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?)");
  s.Bind(1, job.id).Bind(2, job.owner).Bind(3, job.model).Bind(4, job.version);
  s.Bind(5, job.created_ms).Bind(6, job.callback_url).BindBlob(7, input.body);
  s.Bind(8, input.header_length);
  return s.Run();
}

Result<JobRecord> JobStore::Get(std::string_view id, bool with_result) {
  MutexLock lock(mu_);
  const std::string sql = fmt::format(
      "SELECT {}, result, result_header_length FROM jobs WHERE id = ?", kColumns);
  Statement s(db_, sql.c_str());
  s.Bind(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return NotFound(fmt::format("no job '{}'", id));
  if (rc != SQLITE_ROW) return s.Error();
  JobRecord r = ReadRecord(s);
  if (with_result) {
    r.result = s.Text(12);
    if (!s.IsNull(13)) r.result_header_length = static_cast<size_t>(s.Int(13));
  }
  return r;
}

Result<JobInput> JobStore::GetInput(std::string_view id) {
  MutexLock lock(mu_);
  Statement s(db_, "SELECT input, input_header_length FROM jobs WHERE id = ?");
  s.Bind(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return NotFound(fmt::format("no job '{}'", id));
  if (rc != SQLITE_ROW) return s.Error();
  JobInput input;
  input.body = s.Text(0);
  if (!s.IsNull(1)) input.header_length = static_cast<size_t>(s.Int(1));
  return input;
}

Result<bool> JobStore::MarkRunning(std::string_view id, int64_t now_ms) {
  MutexLock lock(mu_);
  Statement s(db_,
              "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_ms = ? "
              "WHERE id = ? AND state = 'queued'");
  s.Bind(1, now_ms).Bind(2, id);
  RETURN_IF_ERROR(s.Run());
  return s.Changes() > 0;
}

Result<bool> JobStore::Finish(std::string_view id, JobState state, std::string_view error,
                              std::string_view result, std::optional<size_t> result_header_length,
                              int64_t now_ms) {
  MutexLock lock(mu_);
  Statement s(db_,
              "UPDATE jobs SET state = ?, error = ?, result = ?, result_header_length = ?, "
              "finished_ms = ?, input = NULL, callback_pending = (callback_url != '') "
              "WHERE id = ? AND state = 'running'");
  s.Bind(1, JobStateName(state)).Bind(2, error).BindBlob(3, result);
  s.Bind(4, result_header_length).Bind(5, now_ms).Bind(6, id);
  RETURN_IF_ERROR(s.Run());
  return s.Changes() > 0;
}

Result<bool> JobStore::Cancel(std::string_view id, int64_t now_ms) {
  MutexLock lock(mu_);
  Statement s(db_,
              "UPDATE jobs SET state = 'cancelled', error = 'cancelled by the client', "
              "finished_ms = ?, input = NULL, callback_pending = (callback_url != '') "
              "WHERE id = ? AND state IN ('queued', 'running')");
  s.Bind(1, now_ms).Bind(2, id);
  RETURN_IF_ERROR(s.Run());
  return s.Changes() > 0;
}

Status JobStore::Delete(std::string_view id) {
  MutexLock lock(mu_);
  Statement s(db_, "DELETE FROM jobs WHERE id = ?");
  s.Bind(1, id);
  return s.Run();
}

Result<std::vector<JobRecord>> JobStore::List(std::string_view owner, int64_t after_seq,
                                              int limit) {
  MutexLock lock(mu_);
  const std::string sql = fmt::format(
      "SELECT {} FROM jobs WHERE owner = ? AND seq > ? ORDER BY seq LIMIT ?", kColumns);
  Statement s(db_, sql.c_str());
  s.Bind(1, owner).Bind(2, after_seq).Bind(3, static_cast<int64_t>(limit));
  std::vector<JobRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadRecord(s));
  if (rc != SQLITE_DONE) return s.Error();
  return out;
}

Result<int> JobStore::RecoverInterrupted(int64_t now_ms) {
  MutexLock lock(mu_);
  Statement s(db_,
              "UPDATE jobs SET state = 'failed', error = 'interrupted by restart', "
              "finished_ms = ?, input = NULL, callback_pending = (callback_url != '') "
              "WHERE state = 'running'");
  s.Bind(1, now_ms);
  RETURN_IF_ERROR(s.Run());
  return s.Changes();
}

Result<std::vector<std::string>> JobStore::QueuedIds() {
  MutexLock lock(mu_);
  Statement s(db_, "SELECT id FROM jobs WHERE state = 'queued' ORDER BY seq");
  std::vector<std::string> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(s.Text(0));
  if (rc != SQLITE_DONE) return s.Error();
  return out;
}

Result<int> JobStore::DeleteFinishedBefore(int64_t cutoff_ms) {
  MutexLock lock(mu_);
  Statement s(db_,
              "DELETE FROM jobs WHERE state IN ('done', 'failed', 'cancelled') "
              "AND finished_ms < ? AND callback_pending = 0");
  s.Bind(1, cutoff_ms);
  RETURN_IF_ERROR(s.Run());
  return s.Changes();
}

Result<std::vector<JobRecord>> JobStore::PendingCallbacks() {
  MutexLock lock(mu_);
  const std::string sql =
      fmt::format("SELECT {} FROM jobs WHERE callback_pending = 1 ORDER BY seq", kColumns);
  Statement s(db_, sql.c_str());
  std::vector<JobRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadRecord(s));
  if (rc != SQLITE_DONE) return s.Error();
  return out;
}

Status JobStore::MarkCallbackDone(std::string_view id) {
  MutexLock lock(mu_);
  Statement s(db_, "UPDATE jobs SET callback_pending = 0 WHERE id = ?");
  s.Bind(1, id);
  return s.Run();
}

Result<JobCounts> JobStore::Counts() {
  MutexLock lock(mu_);
  Statement s(db_, "SELECT state, COUNT(*) FROM jobs GROUP BY state");
  JobCounts c;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    const int64_t n = s.Int(1);
    switch (StateFromName(s.Text(0))) {
      case JobState::kQueued: c.queued = n; break;
      case JobState::kRunning: c.running = n; break;
      case JobState::kDone: c.done = n; break;
      case JobState::kFailed: c.failed = n; break;
      case JobState::kCancelled: c.cancelled = n; break;
    }
  }
  if (rc != SQLITE_DONE) return s.Error();
  return c;
}

}  // namespace inferd::jobs
