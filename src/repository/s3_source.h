// S3Source: an s3://bucket/prefix model repository mirrored into a local cache directory.
// Sync lists the prefix and downloads the objects whose ETag differs from the copy's (so a poll
// fetches only what changed), then deletes cached files no longer listed. Called by
// ModelRepository through RepositorySource; not thread-safe (one Sync at a time).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "repository/repository_source.h"
#include "repository/s3_client.h"

namespace inferd::repository {

class S3Source : public RepositorySource {
 public:
  // `url` is s3://bucket[/prefix]; the copy goes to <cache_directory>/s3/<bucket>/<prefix>.
  static Result<std::unique_ptr<S3Source>> Create(const std::string& url,
                                                  const std::filesystem::path& cache_directory,
                                                  const S3Client::Options& client_options);

  const std::filesystem::path& LocalRoot() const override { return root_; }
  Status Sync() override;
  const std::string& Location() const override { return url_; }

 private:
  S3Source(std::string url, std::string bucket, std::string prefix, std::filesystem::path root,
           std::unique_ptr<S3Client> client)
      : url_(std::move(url)),
        bucket_(std::move(bucket)),
        prefix_(std::move(prefix)),
        root_(std::move(root)),
        client_(std::move(client)) {}
  void RemoveUnlisted(const std::map<std::string, std::string>& listed) const;

  const std::string url_;
  const std::string bucket_;
  const std::string prefix_;  // "" or ending in '/'
  const std::filesystem::path root_;
  const std::unique_ptr<S3Client> client_;
  std::map<std::string, std::string> etags_;  // relative path -> ETag of the cached copy
};

}  // namespace inferd::repository
