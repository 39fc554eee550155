#include "batch/line_file.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace inferd::batch {

Result<std::unique_ptr<LineFile>> LineFile::Open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return NotFound(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  }
  struct stat st {};
  fstat(fileno(file), &st);
  static constexpr size_t kBufferBytes = 1 << 20;
  std::setvbuf(file, nullptr, _IOFBF, kBufferBytes);
  return std::unique_ptr<LineFile>(new LineFile(file, path, static_cast<uint64_t>(st.st_size)));
}

LineFile::~LineFile() {
  std::fclose(file_);
  std::free(buffer_);
}

Result<bool> LineFile::Next(std::string_view& line) {
  const ssize_t n = getline(&buffer_, &capacity_, file_);
  if (n < 0) {
    if (std::ferror(file_)) {
      return Unavailable(fmt::format("reading '{}': {}", path_, std::strerror(errno)));
    }
    return false;
  }
  position_ += static_cast<uint64_t>(n);
  ++line_;
  size_t length = static_cast<size_t>(n);
  if (length > 0 && buffer_[length - 1] == '\n') --length;
  if (length > 0 && buffer_[length - 1] == '\r') --length;
  line = std::string_view(buffer_, length);
  return true;
}

Status LineFile::Seek(uint64_t position, int64_t line) {
  if (position > size_ || fseeko(file_, static_cast<off_t>(position), SEEK_SET) != 0) {
    return InvalidArgument(
        fmt::format("cannot resume '{}' at byte {}: the file is shorter", path_, position));
  }
  position_ = position;
  line_ = line;
  return Status::Ok();
}

}  // namespace inferd::batch
