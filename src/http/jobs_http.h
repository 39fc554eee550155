// The HTTP face of asynchronous jobs (jobs::JobManager): `Prefer: respond-async` on an infer
// request, and the /v2/jobs endpoints. Pure functions from a request's parts to an answer, so
// the session only copies the answer onto the wire; unit-tested without sockets.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/http_answer.h"
#include "jobs/job_manager.h"

namespace inferd::http {

// Whether an RFC 7240 Prefer header value asks for respond-async (among other preferences,
// any case, with or without parameters).
bool PrefersRespondAsync(std::string_view prefer);

// POST .../infer with Prefer: respond-async: 202 + Location + Preference-Applied, 429 when the
// queue is full, 400 for a bad callback URL.
HttpAnswer SubmitJob(jobs::JobManager& jobs, std::string owner, std::string model,
                    int64_t version, std::string body, std::optional<size_t> header_length,
                    std::string callback_url);
// GET /v2/jobs/{id}: a done job answers its v2 response (JSON, or binary with
// Inference-Header-Content-Length) with 200; a queued or running one its state with 202 and
// Retry-After; a failed or cancelled one its state (and error) with 200. Every answer carries
// Inferd-Job-State.
HttpAnswer GetJob(jobs::JobManager& jobs, std::string_view owner, std::string_view id);
// DELETE /v2/jobs/{id}: cancels a queued or running job (200 + its state), deletes an ended
// one (204).
HttpAnswer DeleteJob(jobs::JobManager& jobs, std::string_view owner, std::string_view id);
// GET /v2/jobs?page_token=..&limit=..: {"jobs": [...], "next_page_token": "..."}.
HttpAnswer ListJobs(jobs::JobManager& jobs, std::string_view owner, std::string_view target);

}  // namespace inferd::http
