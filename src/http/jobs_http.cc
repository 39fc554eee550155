#include "http/jobs_http.h"

#include <cctype>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>


namespace inferd::http {
namespace {

constexpr std::string_view kStateHeader = "Inferd-Job-State";

// A full jobs queue is back-pressure (429, retry later), not a body too large (413).
HttpAnswer JobErrorAnswer(const Status& status) {
  HttpAnswer a = ErrorAnswer(status);
  if (status.code() == StatusCode::kResourceExhausted) {
    a.status = 429;
    a.headers.emplace_back("Retry-After", "1");
  }
  return a;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// The value of `key` in a query string ("" when absent).
std::optional<std::string> QueryValue(std::string_view target, std::string_view key) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      return std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace

bool PrefersRespondAsync(std::string_view prefer) {
  while (!prefer.empty()) {
    const size_t comma = prefer.find(',');
    std::string_view item = prefer.substr(0, comma);
    item = Trim(item.substr(0, item.find(';')));  // drop parameters
    item = Trim(item.substr(0, item.find('=')));  // a token may carry a value
    if (EqualsNoCase(item, "respond-async")) return true;
    if (comma == std::string_view::npos) break;
    prefer.remove_prefix(comma + 1);
  }
  return false;
}

HttpAnswer SubmitJob(jobs::JobManager& jobs, std::string owner, std::string model,
                    int64_t version, std::string body, std::optional<size_t> header_length,
                    std::string callback_url) {
  if (header_length && *header_length > body.size()) {
    return JobErrorAnswer(InvalidArgument(fmt::format(
        "Inference-Header-Content-Length {} exceeds the body's {} bytes", *header_length,
        body.size())));
  }
  auto job = jobs.Submit(std::move(owner), std::move(model), version,
                         {std::move(body), header_length}, std::move(callback_url));
  if (!job.ok()) return JobErrorAnswer(job.status());
  HttpAnswer a;
  a.status = 202;
  a.body = jobs::JobJson(*job);
  a.headers = {{"Location", "/v2/jobs/" + job->id},
               {"Preference-Applied", "respond-async"},
               {std::string(kStateHeader), "queued"}};
  return a;
}

HttpAnswer GetJob(jobs::JobManager& jobs, std::string_view owner, std::string_view id) {
  auto job = jobs.Get(owner, id, /*with_result=*/true);
  if (!job.ok()) return JobErrorAnswer(job.status());
  HttpAnswer a;
  a.headers.emplace_back(kStateHeader, jobs::JobStateName(job->state));
  if (job->state == jobs::JobState::kDone) {
    a.body = std::move(job->result);
    if (job->result_header_length) {
      a.content_type = "application/octet-stream";
      a.headers.emplace_back("Inference-Header-Content-Length",
                             std::to_string(*job->result_header_length));
    }
    return a;
  }
  if (!jobs::IsTerminal(job->state)) {
    a.status = 202;
    a.headers.emplace_back("Retry-After", "1");
  }
  a.body = jobs::JobJson(*job);
  return a;
}

HttpAnswer DeleteJob(jobs::JobManager& jobs, std::string_view owner, std::string_view id) {
  auto outcome = jobs.Cancel(owner, id);
  if (!outcome.ok()) return JobErrorAnswer(outcome.status());
  HttpAnswer a;
  if (outcome->deleted) {
    a.status = 204;
    a.content_type.clear();
    return a;
  }
  a.headers.emplace_back(kStateHeader, jobs::JobStateName(outcome->job.state));
  a.body = jobs::JobJson(outcome->job);
  return a;
}

HttpAnswer ListJobs(jobs::JobManager& jobs, std::string_view owner, std::string_view target) {
  int limit = 100;
  if (auto v = QueryValue(target, "limit")) {
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), limit);
    if (ec != std::errc() || ptr != v->data() + v->size()) {
      return JobErrorAnswer(InvalidArgument(fmt::format("limit '{}' is not an integer", *v)));
    }
  }
  auto page = jobs.List(owner, QueryValue(target, "page_token").value_or(""), limit);
  if (!page.ok()) return JobErrorAnswer(page.status());
  nlohmann::json doc = {{"jobs", nlohmann::json::array()}};
  for (const auto& job : page->jobs) doc["jobs"].push_back(nlohmann::json::parse(jobs::JobJson(job)));
  if (!page->next_page_token.empty()) doc["next_page_token"] = page->next_page_token;
  HttpAnswer a;
  a.body = doc.dump();
  return a;
}

}  // namespace inferd::http
