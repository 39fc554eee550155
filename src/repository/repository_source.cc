#include "repository/repository_source.h"

#include <fmt/format.h>

#include "repository/s3_source.h"

namespace inferd::repository {
namespace {

class LocalDirectorySource : public RepositorySource {
 public:
  explicit LocalDirectorySource(std::string location)
      : location_(std::move(location)), root_(location_) {}
  const std::filesystem::path& LocalRoot() const override { return root_; }
  Status Sync() override { return Status::Ok(); }
  const std::string& Location() const override { return location_; }

 private:
  const std::string location_;
  const std::filesystem::path root_;
};

}  // namespace

Result<std::unique_ptr<RepositorySource>> OpenRepositorySource(
    const std::string& location, const RepositorySourceOptions& options) {
  if (location.starts_with("s3://")) {
    S3Client::Options client;
    client.endpoint = options.s3_endpoint;
    ASSIGN_OR_RETURN(auto source, S3Source::Create(location, options.cache_directory, client));
    return std::unique_ptr<RepositorySource>(std::move(source));
  }
  if (location.find("://") != std::string::npos) {
    return InvalidArgument(fmt::format(
        "model repository '{}': unsupported scheme (a local directory or s3://)", location));
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(location, ec)) {
    return NotFound(fmt::format("model repository '{}' is not a directory", location));
  }
  return std::unique_ptr<RepositorySource>(std::make_unique<LocalDirectorySource>(location));
}

}  // namespace inferd::repository
