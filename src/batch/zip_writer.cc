#include "batch/zip_writer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

namespace inferd::batch {
namespace {

constexpr uint32_t kMax32 = 0xFFFFFFFFu;
constexpr uint16_t kMax16 = 0xFFFFu;
constexpr uint16_t kDosDate19800101 = (0 << 9) | (1 << 5) | 1;

// Little-endian field writers for the record being built.
void Put16(std::string& out, uint64_t v) {
  for (int i = 0; i < 2; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
void Put32(std::string& out, uint64_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
void Put64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// Closes a member's source file on every return path.
struct InputFd {
  int fd;
  ~InputFd() { close(fd); }
};

struct WrittenMember {
  std::string name;
  uint64_t size = 0;
  uint64_t header_offset = 0;
  uint32_t crc = 0;
  bool zip64 = false;
};

class Archive {
 public:
  Archive(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~Archive() {
    if (fd_ >= 0) close(fd_);
  }
  Archive(const Archive&) = delete;
  Archive& operator=(const Archive&) = delete;

  uint64_t offset() const { return offset_; }

  Status Append(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return IoError("writing");
      bytes.remove_prefix(static_cast<size_t>(n));
      offset_ += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }
  Status WriteAt(uint64_t at, std::string_view bytes) {
    if (pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(at)) !=
        static_cast<ssize_t>(bytes.size())) {
      return IoError("writing");
    }
    return Status::Ok();
  }
  Status Close() {
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) return IoError("closing");
    return Status::Ok();
  }

  Status IoError(const char* what) const {
    return Unavailable(fmt::format("{} '{}': {}", what, path_, std::strerror(errno)));
  }

 private:
  int fd_;
  std::string path_;
  uint64_t offset_ = 0;
};

std::string LocalHeader(const WrittenMember& m) {
  std::string h;
  Put32(h, 0x04034b50);
  Put16(h, m.zip64 ? 45 : 20);  // version needed: 4.5 for zip64
  Put16(h, 0);                  // flags
  Put16(h, 0);                  // method: stored
  Put16(h, 0);                  // time 00:00:00
  Put16(h, kDosDate19800101);
  Put32(h, m.crc);
  Put32(h, m.zip64 ? kMax32 : m.size);  // compressed size
  Put32(h, m.zip64 ? kMax32 : m.size);  // uncompressed size
  Put16(h, m.name.size());
  Put16(h, m.zip64 ? 20 : 0);
  h += m.name;
  if (m.zip64) {
    Put16(h, 0x0001);
    Put16(h, 16);
    Put64(h, m.size);  // uncompressed, then compressed
    Put64(h, m.size);
  }
  return h;
}

std::string CentralHeader(const WrittenMember& m, bool force_zip64) {
  const bool big_offset = force_zip64 || m.header_offset >= kMax32;
  std::string extra;
  if (m.zip64) {
    Put64(extra, m.size);
    Put64(extra, m.size);
  }
  if (big_offset) Put64(extra, m.header_offset);
  std::string h;
  Put32(h, 0x02014b50);
  const int version = m.zip64 || big_offset ? 45 : 20;
  Put16(h, version);  // made by (MS-DOS attributes)
  Put16(h, version);  // needed
  Put16(h, 0);
  Put16(h, 0);
  Put16(h, 0);
  Put16(h, kDosDate19800101);
  Put32(h, m.crc);
  Put32(h, m.zip64 ? kMax32 : m.size);
  Put32(h, m.zip64 ? kMax32 : m.size);
  Put16(h, m.name.size());
  Put16(h, extra.empty() ? 0 : 4 + extra.size());
  Put16(h, 0);  // comment
  Put16(h, 0);  // disk
  Put16(h, 0);  // internal attributes
  Put32(h, 0);  // external attributes
  Put32(h, big_offset ? kMax32 : m.header_offset);
  h += m.name;
  if (!extra.empty()) {
    Put16(h, 0x0001);
    Put16(h, extra.size());
    h += extra;
  }
  return h;
}

std::string EndRecords(uint64_t count, uint64_t directory_offset, uint64_t directory_size,
                       bool force_zip64) {
  const bool zip64 =
      force_zip64 || count >= kMax16 || directory_offset >= kMax32 || directory_size >= kMax32;
  std::string e;
  if (zip64) {
    const uint64_t record_offset = directory_offset + directory_size;
    Put32(e, 0x06064b50);
    Put64(e, 44);  // the record's size after this field
    Put16(e, 45);
    Put16(e, 45);
    Put32(e, 0);
    Put32(e, 0);
    Put64(e, count);
    Put64(e, count);
    Put64(e, directory_size);
    Put64(e, directory_offset);
    Put32(e, 0x07064b50);  // locator
    Put32(e, 0);
    Put64(e, record_offset);
    Put32(e, 1);
  }
  Put32(e, 0x06054b50);
  Put16(e, 0);
  Put16(e, 0);
  Put16(e, zip64 ? kMax16 : count);
  Put16(e, zip64 ? kMax16 : count);
  Put32(e, zip64 ? kMax32 : directory_size);
  Put32(e, zip64 ? kMax32 : directory_offset);
  Put16(e, 0);
  return e;
}

}  // namespace

uint32_t Crc32(std::span<const std::byte> bytes, uint32_t crc) {
  // zlib's crc32 is the zip CRC (and its sliced tables are several times a byte-wise loop);
  // it takes lengths as uInt, so large spans go in pieces.
  uLong value = crc;
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), 1u << 30);
    value = crc32(value, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n));
    bytes = bytes.subspan(n);
  }
  return static_cast<uint32_t>(value);
}

Status WriteStoredZip(const std::string& path, const std::vector<ZipSource>& members,
                      const ZipOptions& options) {
  const int out = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    return InvalidArgument(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  }
  Archive archive(out, path);
  static constexpr size_t kBufferBytes = 1 << 20;
  auto buffer = std::make_unique<std::byte[]>(kBufferBytes);
  std::vector<WrittenMember> written;
  for (const ZipSource& source : members) {
    const int in = open(source.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) {
      return FailedPrecondition(
          fmt::format("cannot read '{}': {}", source.path, std::strerror(errno)));
    }
    const InputFd closer{in};
    struct stat info {};
    if (fstat(in, &info) != 0) return Internal(fmt::format("stat '{}'", source.path));
    WrittenMember m;
    m.name = source.name;
    m.size = static_cast<uint64_t>(info.st_size);
    m.header_offset = archive.offset();
    m.zip64 = options.force_zip64 || m.size >= kMax32;
    // The CRC is known only after the copy: the header goes first with 0, then is patched.
    RETURN_IF_ERROR(archive.Append(LocalHeader(m)));
    uint64_t copied = 0;
    while (copied < m.size) {
      const ssize_t n = pread(in, buffer.get(), kBufferBytes, static_cast<off_t>(copied));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return FailedPrecondition(
            fmt::format("'{}' changed while it was being archived", source.path));
      }
      const std::span<const std::byte> chunk(buffer.get(), static_cast<size_t>(n));
      m.crc = Crc32(chunk, m.crc);
      RETURN_IF_ERROR(archive.Append(
          std::string_view(reinterpret_cast<const char*>(chunk.data()), chunk.size())));
      copied += static_cast<uint64_t>(n);
    }
    std::string crc;
    Put32(crc, m.crc);
    RETURN_IF_ERROR(archive.WriteAt(m.header_offset + 14, crc));
    written.push_back(std::move(m));
  }
  const uint64_t directory_offset = archive.offset();
  for (const WrittenMember& m : written) {
    RETURN_IF_ERROR(archive.Append(CentralHeader(m, options.force_zip64)));
  }
  const uint64_t directory_size = archive.offset() - directory_offset;
  RETURN_IF_ERROR(archive.Append(
      EndRecords(written.size(), directory_offset, directory_size, options.force_zip64)));
  return archive.Close();
}

}  // namespace inferd::batch
