// OutputFile: an append-only output of `inferd predict` (results, errors) that can be reopened
// at a checkpointed size: a resumed run truncates what a killed run wrote after its last
// checkpoint and appends from there. Buffered; Flush() hands the bytes to the kernel, which is
// what survives kill -9 (not a power cut: no fsync). Not thread-safe.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace inferd::batch {

class OutputFile {
 public:
  // resume_bytes: nullopt creates or empties the file; a size keeps that many bytes of it.
  static Result<std::unique_ptr<OutputFile>> Open(const std::string& path,
                                                  std::optional<uint64_t> resume_bytes);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  Status Append(std::string_view bytes);
  // Flushes and returns the file's size.
  Result<uint64_t> Flush();
  // Overwrites bytes at `offset` (below the size), e.g. a header known only at the end.
  Status WriteAt(uint64_t offset, std::string_view bytes);
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  OutputFile(std::FILE* file, std::string path, uint64_t size)
      : file_(file), path_(std::move(path)), size_(size) {}
  Status IoError(const char* what) const;

  std::FILE* file_;
  std::string path_;
  uint64_t size_;
};

}  // namespace inferd::batch
