// LineFile: a text file read line by line with its byte position and line number tracked, for
// the JSON Lines and CSV readers (resumable at any line start). Not thread-safe.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace inferd::batch {

class LineFile {
 public:
  static Result<std::unique_ptr<LineFile>> Open(const std::string& path);
  ~LineFile();
  LineFile(const LineFile&) = delete;
  LineFile& operator=(const LineFile&) = delete;

  // The next line without its end of line ("\n" or "\r\n"); false at the end of the file.
  Result<bool> Next(std::string_view& line);
  uint64_t position() const { return position_; }
  int64_t line() const { return line_; }
  uint64_t size() const { return size_; }
  Status Seek(uint64_t position, int64_t line);

 private:
  LineFile(std::FILE* file, std::string path, uint64_t size)
      : file_(file), path_(std::move(path)), size_(size) {}

  std::FILE* file_;
  std::string path_;
  uint64_t size_;
  uint64_t position_ = 0;
  int64_t line_ = 0;
  char* buffer_ = nullptr;  // getline's
  size_t capacity_ = 0;
};

}  // namespace inferd::batch
