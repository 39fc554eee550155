#include "batch/output_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace inferd::batch {

Result<std::unique_ptr<OutputFile>> OutputFile::Open(const std::string& path,
                                                     std::optional<uint64_t> resume_bytes) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (resume_bytes ? 0 : O_TRUNC);
  const int fd = open(path.c_str(), flags, 0644);
  if (fd < 0) {
    return InvalidArgument(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  }
  if (resume_bytes) {
    const off_t size = lseek(fd, 0, SEEK_END);
    if (size < static_cast<off_t>(*resume_bytes) ||
        ftruncate(fd, static_cast<off_t>(*resume_bytes)) != 0 ||
        lseek(fd, static_cast<off_t>(*resume_bytes), SEEK_SET) < 0) {
      close(fd);
      return FailedPrecondition(
          fmt::format("cannot resume '{}': it is shorter than its checkpoint says ({} bytes)", path,
                      *resume_bytes));
    }
  }
  std::FILE* file = fdopen(fd, "wb");
  if (file == nullptr) {
    close(fd);
    return Internal(fmt::format("fdopen '{}': {}", path, std::strerror(errno)));
  }
  static constexpr size_t kBufferBytes = 1 << 20;
  std::setvbuf(file, nullptr, _IOFBF, kBufferBytes);
  return std::unique_ptr<OutputFile>(new OutputFile(file, path, resume_bytes.value_or(0)));
}

OutputFile::~OutputFile() { std::fclose(file_); }

Status OutputFile::IoError(const char* what) const {
  return Unavailable(fmt::format("{} '{}': {}", what, path_, std::strerror(errno)));
}

Status OutputFile::Append(std::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    return IoError("writing");
  }
  size_ += bytes.size();
  return Status::Ok();
}

Result<uint64_t> OutputFile::Flush() {
  if (std::fflush(file_) != 0) return IoError("writing");
  return size_;
}

Status OutputFile::WriteAt(uint64_t offset, std::string_view bytes) {
  if (std::fflush(file_) != 0) return IoError("writing");
  const ssize_t n = pwrite(fileno(file_), bytes.data(), bytes.size(), static_cast<off_t>(offset));
  if (n != static_cast<ssize_t>(bytes.size())) return IoError("writing");
  return Status::Ok();
}

}  // namespace inferd::batch
