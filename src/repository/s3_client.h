// S3Client: the two S3 calls a model repository needs, ListObjectsV2 and GetObject, over libcurl.
// Requests are signed with AWS Signature V4 by libcurl itself (CURLOPT_AWS_SIGV4) when an access
// key is set, and sent unsigned otherwise (public buckets). URLs are path-style
// (<endpoint>/<bucket>/<key>) so that S3-compatible servers work with an endpoint override.
// Used by S3Source; each call is a blocking request, safe to make from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace inferd::repository {

struct S3Credentials {
  std::string access_key_id;         // AWS_ACCESS_KEY_ID; empty = unsigned requests
  std::string secret_access_key;     // AWS_SECRET_ACCESS_KEY
  std::string session_token;         // AWS_SESSION_TOKEN; optional (temporary credentials)
  std::string region = "us-east-1";  // AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1
  // The AWS_* environment variables above.
  static S3Credentials FromEnvironment();
};

struct S3Object {
  std::string key;
  std::string etag;  // as S3 lists it, quotes removed; changes whenever the content does
  uint64_t size_bytes = 0;
};

class S3Client {
 public:
  struct Options {
    // Scheme and host (and port) of the S3 API, e.g. "http://127.0.0.1:4568"; empty =
    // AWS_ENDPOINT_URL, else https://s3.<region>.amazonaws.com.
    std::string endpoint;
    S3Credentials credentials = S3Credentials::FromEnvironment();
    long timeout_seconds = 300;  // per request, including the body
  };

  static Result<std::unique_ptr<S3Client>> Create(const Options& options);

  // Every object under `prefix` (all pages). Errors name the bucket and S3's error code:
  // NOT_FOUND for a missing bucket, PERMISSION_DENIED for a rejected key or signature.
  Result<std::vector<S3Object>> List(const std::string& bucket, const std::string& prefix) const;
  // Writes the object to `path` (through a temporary file, renamed when complete).
  Status Download(const std::string& bucket, const std::string& key,
                  const std::filesystem::path& path) const;

  const std::string& endpoint() const { return options_.endpoint; }

 private:
  explicit S3Client(Options options) : options_(std::move(options)) {}
  struct Response {
    long http_status = 0;
    std::string body;  // the listing or the error document; empty for a download
  };
  // One signed GET; `sink` (when set) receives the body instead of Response::body on 200.
  Result<Response> Get(const std::string& url, std::FILE* sink) const;
  Status ErrorStatus(const std::string& what, const Response& response) const;

  const Options options_;
};

}  // namespace inferd::repository
