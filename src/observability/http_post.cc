#include "observability/http_post.h"

#include <memory>
#include <mutex>

#include <curl/curl.h>
#include <fmt/format.h>

namespace inferd::observability {
namespace {

size_t DiscardBody(char*, size_t size, size_t n, void*) { return size * n; }

}  // namespace

Status ValidateHttpUrl(std::string_view url, std::string_view what) {
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else {
    return InvalidArgument(fmt::format("{} '{}' must start with http:// or https://", what, url));
  }
  if (rest.empty() || rest.front() == '/' || rest.find_first_of(" \r\n\t") != std::string::npos) {
    return InvalidArgument(fmt::format("{} '{}' names no host", what, url));
  }
  return Status::Ok();
}

Result<int> HttpPost(const HttpPostRequest& request) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Internal("curl_easy_init failed");
  CURL* h = curl.get();
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, fmt::format("{}: {}", name, value).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers,
                                                                          curl_slist_free_all);
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, request.timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, request.connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, DiscardBody);
  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    return Unavailable(fmt::format("POST {}: {}", request.url, curl_easy_strerror(rc)));
  }
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  return static_cast<int>(code);
}

}  // namespace inferd::observability
