#include "repository/s3_source.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <vector>

namespace inferd::repository {
namespace {

namespace fs = std::filesystem;

// A key's path below the prefix is used as a local path: no empty, "." or ".." parts.
bool SafeRelativePath(std::string_view rel) {
  if (rel.empty() || rel.front() == '/' || rel.find("//") != std::string_view::npos) return false;
  for (const auto& part : fs::path(rel)) {
    if (part == "." || part == ".." || part.empty()) return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<S3Source>> S3Source::Create(const std::string& url,
                                                   const fs::path& cache_directory,
                                                   const S3Client::Options& client_options) {
  constexpr std::string_view kScheme = "s3://";
  if (!url.starts_with(kScheme)) {
    return InvalidArgument(fmt::format("'{}' is not an s3:// URL", url));
  }
  const std::string rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  const std::string bucket = rest.substr(0, slash);
  std::string prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (!SafeRelativePath(bucket) || (!prefix.empty() && !SafeRelativePath(prefix))) {
    return InvalidArgument(
        fmt::format("'{}' is not a valid S3 repository (want s3://bucket[/prefix])", url));
  }
  ASSIGN_OR_RETURN(auto client, S3Client::Create(client_options));
  fs::path root = cache_directory / "s3" / bucket;
  if (!prefix.empty()) {
    root /= prefix;
    prefix += '/';
  }
  return std::unique_ptr<S3Source>(
      new S3Source(url, bucket, std::move(prefix), std::move(root), std::move(client)));
}

Status S3Source::Sync() {
  ASSIGN_OR_RETURN(std::vector<S3Object> objects, client_->List(bucket_, prefix_));
  std::map<std::string, std::string> listed;
  int downloaded = 0;
  for (const S3Object& o : objects) {
    const std::string rel = o.key.substr(prefix_.size());
    if (rel.empty() || rel.back() == '/') continue;  // folder markers
    if (!SafeRelativePath(rel)) {
      spdlog::warn("{}: skipping object '{}' (not a safe relative path)", url_, o.key);
      continue;
    }
    listed[rel] = o.etag;
    std::error_code ec;
    auto it = etags_.find(rel);
    if (it != etags_.end() && it->second == o.etag && fs::exists(root_ / rel, ec)) continue;
    RETURN_IF_ERROR(client_->Download(bucket_, o.key, root_ / rel));
    etags_[rel] = o.etag;
    ++downloaded;
  }
  RemoveUnlisted(listed);
  std::erase_if(etags_, [&](const auto& kv) { return !listed.contains(kv.first); });
  if (downloaded > 0) {
    spdlog::info("{}: {} of {} objects downloaded to {}", url_, downloaded, listed.size(),
                 root_.string());
  }
  return Status::Ok();
}

void S3Source::RemoveUnlisted(const std::map<std::string, std::string>& listed) const {
  std::error_code ec;
  std::vector<fs::path> stale;
  for (auto it = fs::recursive_directory_iterator(root_, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    if (!listed.contains(fs::relative(it->path(), root_, ec).string())) stale.push_back(it->path());
  }
  for (const auto& p : stale) {
    fs::remove(p, ec);
    // Empty folders left behind (a removed model or version) go too, up to the root.
    for (fs::path dir = p.parent_path(); dir != root_ && fs::is_empty(dir, ec);
         dir = dir.parent_path()) {
      fs::remove(dir, ec);
    }
  }
}

}  // namespace inferd::repository
