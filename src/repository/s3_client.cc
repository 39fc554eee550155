#include "repository/s3_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace inferd::repository {
namespace {

namespace fs = std::filesystem;

// SHA-256 of an empty body: every request here is a GET.
constexpr char kEmptyPayloadSha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters stay, '/' too when
// `keep_slash` (object keys in the path), everything else becomes %XX with upper-case hex.
std::string UriEncode(std::string_view s, bool keep_slash) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string XmlUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool matched = false;
    for (const auto& [entity, c] : kEntities) {
      if (s.substr(i, entity.size()) == entity) {
        out.push_back(c);
        i += entity.size() - 1;
        matched = true;
        break;
      }
    }
    if (!matched) out.push_back('&');
  }
  return out;
}

// The text of the first <tag>...</tag> in `xml` at or after `from`; `end` gets the position
// after it. Enough for S3's flat listing and error documents.
std::optional<std::string> XmlText(std::string_view xml, std::string_view tag, size_t from = 0,
                                   size_t* end = nullptr) {
  const std::string open = fmt::format("<{}>", tag), close = fmt::format("</{}>", tag);
  const size_t b = xml.find(open, from);
  if (b == std::string_view::npos) return std::nullopt;
  const size_t e = xml.find(close, b + open.size());
  if (e == std::string_view::npos) return std::nullopt;
  if (end != nullptr) *end = e + close.size();
  return XmlUnescape(xml.substr(b + open.size(), e - b - open.size()));
}

size_t AppendToString(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

S3Credentials S3Credentials::FromEnvironment() {
  S3Credentials c;
  c.access_key_id = Env("AWS_ACCESS_KEY_ID");
  c.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
  c.session_token = Env("AWS_SESSION_TOKEN");
  std::string region = Env("AWS_REGION");
  if (region.empty()) region = Env("AWS_DEFAULT_REGION");
  if (!region.empty()) c.region = region;
  return c;
}

Result<std::unique_ptr<S3Client>> S3Client::Create(const Options& options) {
  Options o = options;
  if (o.endpoint.empty()) o.endpoint = Env("AWS_ENDPOINT_URL");
  if (o.endpoint.empty())
    o.endpoint = fmt::format("https://s3.{}.amazonaws.com", o.credentials.region);
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  if (!o.endpoint.starts_with("http://") && !o.endpoint.starts_with("https://")) {
    return InvalidArgument(
        fmt::format("S3 endpoint '{}' must start with http:// or https://", o.endpoint));
  }
  if (o.credentials.access_key_id.empty() != o.credentials.secret_access_key.empty()) {
    return InvalidArgument(
        "S3: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (unsigned requests)");
  }
  GlobalInit();
  return std::unique_ptr<S3Client>(new S3Client(std::move(o)));
}

Result<S3Client::Response> S3Client::Get(const std::string& url, std::FILE* sink) const {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Internal("S3: curl_easy_init failed");
  CURL* h = curl.get();
  Response response;
  std::string error_body;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers,
                              fmt::format("x-amz-content-sha256: {}", kEmptyPayloadSha256).c_str());
  const S3Credentials& c = options_.credentials;
  if (!c.session_token.empty()) {
    headers = curl_slist_append(headers,
                                fmt::format("x-amz-security-token: {}", c.session_token).c_str());
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers,
                                                                          curl_slist_free_all);
  const std::string sigv4 = fmt::format("aws:amz:{}:s3", c.region);
  const std::string userpwd = fmt::format("{}:{}", c.access_key_id, c.secret_access_key);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  if (!c.access_key_id.empty()) {
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(h, CURLOPT_USERPWD, userpwd.c_str());
  }
  curl_easy_setopt(h, CURLOPT_TIMEOUT, options_.timeout_seconds);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  // The body goes to the file only on success: the status line is known before the body, so
  // a header callback decides where the body goes.
  struct Sink {
    std::FILE* file;
    std::string* text;
    long status = 0;
  } target{sink, &response.body};
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &target);
  curl_easy_setopt(
      h, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* p) -> size_t {
        auto* t = static_cast<Sink*>(p);
        if (t->file != nullptr && t->status == 0) {
          return std::fwrite(data, size, n, t->file) * size;
        }
        return AppendToString(data, size, n, t->text);
      });
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &target);
  curl_easy_setopt(
      h, CURLOPT_HEADERFUNCTION, +[](char* data, size_t size, size_t n, void* p) -> size_t {
        std::string_view line(data, size * n);
        auto* t = static_cast<Sink*>(p);
        // "HTTP/1.1 404 Not Found": a non-200 body is an error document, kept as text.
        if (line.starts_with("HTTP/") && line.size() > 12) {
          t->status = line.substr(9, 3) == "200" ? 0 : 1;
        }
        return size * n;
      });
  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    return Unavailable(fmt::format("S3 request to {} failed: {}", url, curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.http_status);
  return response;
}

Status S3Client::ErrorStatus(const std::string& what, const Response& r) const {
  const std::string code = XmlText(r.body, "Code").value_or(fmt::format("HTTP {}", r.http_status));
  const std::string message = XmlText(r.body, "Message").value_or("");
  const std::string text = fmt::format("S3 {} at {}: {}{}{}", what, options_.endpoint, code,
                                       message.empty() ? "" : ": ", message);
  if (code == "NoSuchBucket" || code == "NoSuchKey" || r.http_status == 404) {
    return NotFound(text);
  }
  if (r.http_status == 403 || r.http_status == 401) {
    return InvalidArgument(text +
                           " (check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
                           "AWS_SESSION_TOKEN and AWS_REGION)");
  }
  return Unavailable(text);
}

Result<std::vector<S3Object>> S3Client::List(const std::string& bucket,
                                             const std::string& prefix) const {
  std::vector<S3Object> objects;
  std::string token;
  do {
    // Query parameters in the sorted order SigV4's canonical request uses.
    std::string query;
    if (!token.empty()) query += "continuation-token=" + UriEncode(token, false) + "&";
    query += "list-type=2&prefix=" + UriEncode(prefix, false);
    const std::string url =
        fmt::format("{}/{}?{}", options_.endpoint, UriEncode(bucket, false), query);
    ASSIGN_OR_RETURN(Response r, Get(url, nullptr));
    if (r.http_status != 200) {
      return ErrorStatus(fmt::format("listing s3://{}/{}", bucket, prefix), r);
    }
    size_t pos = 0, end = 0;
    while (auto contents = XmlText(r.body, "Contents", pos, &end)) {
      pos = end;
      S3Object o;
      o.key = XmlText(*contents, "Key").value_or("");
      std::string etag = XmlText(*contents, "ETag").value_or("");
      std::erase(etag, '"');
      o.etag = etag;
      o.size_bytes = std::strtoull(XmlText(*contents, "Size").value_or("0").c_str(), nullptr, 10);
      if (!o.key.empty()) objects.push_back(std::move(o));
    }
    token = XmlText(r.body, "IsTruncated").value_or("false") == "true"
                ? XmlText(r.body, "NextContinuationToken").value_or("")
                : "";
  } while (!token.empty());
  return objects;
}

Status S3Client::Download(const std::string& bucket, const std::string& key,
                          const fs::path& path) const {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) {
    return Internal(fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message()));
  }
  const fs::path tmp = path.string() + ".inferd-download";
  std::unique_ptr<std::FILE, decltype(&std::fclose)> file(std::fopen(tmp.c_str(), "wb"),
                                                          std::fclose);
  if (!file) return Internal(fmt::format("cannot write {}", tmp.string()));
  const std::string url =
      fmt::format("{}/{}/{}", options_.endpoint, UriEncode(bucket, false), UriEncode(key, true));
  auto r = Get(url, file.get());
  const bool flushed = std::fflush(file.get()) == 0;
  file.reset();
  if (!r.ok() || r->http_status != 200 || !flushed) {
    fs::remove(tmp, ec);
    if (!r.ok()) return r.status();
    if (!flushed) return Internal(fmt::format("cannot write {}", tmp.string()));
    return ErrorStatus(fmt::format("downloading s3://{}/{}", bucket, key), *r);
  }
  fs::rename(tmp, path, ec);
  if (ec) return Internal(fmt::format("cannot rename {}: {}", tmp.string(), ec.message()));
  return Status::Ok();
}

}  // namespace inferd::repository
