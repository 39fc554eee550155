// RepositorySource: where a model repository's files come from, in TF Serving's Source ->
// Manager spirit. ModelRepository reads models only from local directories; a source keeps one
// such directory (LocalRoot) in step with its origin: nothing to do for a local directory, a
// download into a local cache for an s3:// repository (S3Source).
// Sync is called by ModelRepository before each scan (start, every poll) from one thread at a
// time; LocalRoot is constant.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/status.h"

namespace inferd::repository {

class RepositorySource {
 public:
  virtual ~RepositorySource() = default;
  // The directory ModelRepository scans: <model>/config.pbtxt, <model>/<version>/...
  virtual const std::filesystem::path& LocalRoot() const = 0;
  // Brings LocalRoot up to date with the origin. On failure LocalRoot keeps what it had.
  virtual Status Sync() = 0;
  // For logs and errors: the path or URL the user gave.
  virtual const std::string& Location() const = 0;
};

struct RepositorySourceOptions {
  // Where remote repositories are downloaded to; each gets a folder below it.
  std::filesystem::path cache_directory = "/tmp/inferd-model-cache";
  std::string s3_endpoint;  // overrides AWS_ENDPOINT_URL; empty = the environment or AWS
};

// A source for `location`: "s3://bucket[/prefix]" or a local directory.
Result<std::unique_ptr<RepositorySource>> OpenRepositorySource(
    const std::string& location, const RepositorySourceOptions& options);

}  // namespace inferd::repository
