#include "handler/shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

namespace inferd::handler {
namespace {

using ::testing::HasSubstr;

// A real POSIX shared memory object of `size` bytes, unlinked at the end of the test.
class Segment {
 public:
  explicit Segment(size_t size) : key_("/inferd-test-" + std::to_string(getpid())) {
    const int fd = shm_open(key_.c_str(), O_CREAT | O_RDWR | O_EXCL, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    bytes_ = static_cast<std::byte*>(p);
    size_ = size;
  }
  ~Segment() {
    munmap(bytes_, size_);
    shm_unlink(key_.c_str());
  }
  const std::string& key() const { return key_; }
  std::byte* bytes() { return bytes_; }

 private:
  std::string key_;
  std::byte* bytes_ = nullptr;
  size_t size_ = 0;
};

TEST(SharedMemoryRegistry, ViewsAWindowOfTheRegisteredRegion) {
  Segment segment(8192);
  std::memcpy(segment.bytes() + 5000, "hello", 5);
  SharedMemoryRegistry registry;
  ASSERT_TRUE(registry.Register("r", segment.key(), 4096, 4096).ok());
  auto view = registry.View("r", 904, 5, "input 'x'");
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(std::memcmp(view->bytes.data(), "hello", 5), 0);
}

TEST(SharedMemoryRegistry, RefusesWindowsPastTheEnd) {
  Segment segment(4096);
  SharedMemoryRegistry registry;
  auto s = registry.Register("r", segment.key(), 4000, 97);
  EXPECT_THAT(s.message(), HasSubstr("'offset' 4000 + 'byte_size' 97"));
  ASSERT_TRUE(registry.Register("r", segment.key(), 0, 4096).ok());
  EXPECT_THAT(registry.View("r", 4090, 7, "input 'x'").status().message(),
              HasSubstr("input 'x': shared_memory_offset 4090 + shared_memory_byte_size 7"));
  // An offset near 2^64 must not wrap around the bounds check.
  EXPECT_FALSE(registry.View("r", ~uint64_t{0} - 2, 8, "input 'x'").ok());
}

TEST(SharedMemoryRegistry, KeepsTheMappingWhileAViewLivesAfterUnregister) {
  Segment segment(4096);
  std::memcpy(segment.bytes(), "kept", 4);
  SharedMemoryRegistry registry;
  ASSERT_TRUE(registry.Register("r", segment.key(), 0, 4096).ok());
  auto view = registry.View("r", 0, 4, "input 'x'");
  ASSERT_TRUE(view.ok());
  ASSERT_TRUE(registry.Unregister("r").ok());
  EXPECT_EQ(std::memcmp(view->bytes.data(), "kept", 4), 0);
  EXPECT_EQ(registry.View("r", 0, 4, "input 'x'").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.Unregister("r").code(), StatusCode::kNotFound);
}

TEST(SharedMemoryRegistry, RefusesBadKeysAndMissingObjects) {
  SharedMemoryRegistry registry;
  EXPECT_THAT(registry.Register("r", "no-slash", 0, 1).message(), HasSubstr("'key'"));
  EXPECT_THAT(registry.Register("r", "/a/b", 0, 1).message(), HasSubstr("'key'"));
  EXPECT_EQ(registry.Register("r", "/inferd-test-no-such-object", 0, 1).code(),
            StatusCode::kNotFound);
}

TEST(SharedMemoryRefOf, NamesTheParameterThatIsWrong) {
  Parameters params{{"shared_memory_region", std::string("r")}};
  EXPECT_THAT(SharedMemoryRefOf(params, "output 'y'").status().message(),
              HasSubstr("'shared_memory_byte_size' is required"));
  params["shared_memory_byte_size"] = int64_t{16};
  params["shared_memory_offset"] = std::string("x");
  EXPECT_THAT(SharedMemoryRefOf(params, "output 'y'").status().message(),
              HasSubstr("'shared_memory_offset' must be a non-negative integer"));
}

}  // namespace
}  // namespace inferd::handler
