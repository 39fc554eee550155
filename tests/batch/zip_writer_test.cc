#include "batch/zip_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "batch/npy_format.h"

namespace inferd::batch {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "." + std::to_string(getpid())))
      .string();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

uint64_t Read(const std::string& bytes, size_t at, int width) {
  uint64_t v = 0;
  for (int i = width - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

std::span<const std::byte> Bytes(std::string_view text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

// Two members, one empty-ish and one over the copy buffer (1 MiB), so the copy loops.
struct Fixture {
  Fixture() {
    WriteFile(a, "first member");
    std::string big(3 << 19, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 4096);
    WriteFile(b, big);
  }
  ~Fixture() {
    std::filesystem::remove(a);
    std::filesystem::remove(b);
    std::filesystem::remove(zip);
  }
  std::vector<ZipSource> Members() const {
    return {{.name = "a.npy", .path = a}, {.name = "b.npy", .path = b}};
  }
  std::string a = TempPath("zip_a"), b = TempPath("zip_b"), zip = TempPath("zip_out");
};

TEST(Crc32, MatchesTheCheckValueAndContinuesAcrossChunks) {
  EXPECT_EQ(Crc32(Bytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(Crc32(Bytes("6789"), Crc32(Bytes("12345"))), 0xCBF43926u);
  EXPECT_EQ(Crc32(Bytes("")), 0u);
}

TEST(ZipWriter, StoresEachMemberWithItsBytesCrcAndADirectory) {
  Fixture f;
  ASSERT_TRUE(WriteStoredZip(f.zip, f.Members()).ok());
  const std::string zip = ReadFile(f.zip);
  auto members = ListStoredZipMembers(f.zip);
  ASSERT_TRUE(members.ok()) << members.status().message();
  ASSERT_EQ(members->size(), 2u);
  const std::string expected[] = {ReadFile(f.a), ReadFile(f.b)};
  for (size_t i = 0; i < 2; ++i) {
    const ZipMember& m = (*members)[i];
    EXPECT_EQ(m.name, i == 0 ? "a.npy" : "b.npy");
    ASSERT_EQ(m.size, expected[i].size());
    EXPECT_EQ(zip.substr(m.data_offset, m.size), expected[i]);
    const size_t header = m.data_offset - 30 - m.name.size();
    EXPECT_EQ(Read(zip, header + 14, 4), Crc32(Bytes(expected[i])));
  }
  // The end record: 2 entries, and its directory offset points at a central header.
  const size_t end = zip.size() - 22;
  EXPECT_EQ(Read(zip, end, 4), 0x06054b50u);
  EXPECT_EQ(Read(zip, end + 10, 2), 2u);
  EXPECT_EQ(Read(zip, Read(zip, end + 16, 4), 4), 0x02014b50u);
  EXPECT_EQ(Read(zip, end + 16, 4) + Read(zip, end + 12, 4), end);
}

TEST(ZipWriter, WritesTheSameBytesForTheSameMembers) {
  Fixture f;
  ASSERT_TRUE(WriteStoredZip(f.zip, f.Members()).ok());
  const std::string first = ReadFile(f.zip);
  ASSERT_TRUE(WriteStoredZip(f.zip, f.Members()).ok());
  EXPECT_EQ(ReadFile(f.zip), first);
}

TEST(ZipWriter, Zip64RecordsCarryTheSizesAndTheDirectory) {
  Fixture f;
  ASSERT_TRUE(WriteStoredZip(f.zip, f.Members(), {.force_zip64 = true}).ok());
  const std::string zip = ReadFile(f.zip);
  auto members = ListStoredZipMembers(f.zip);  // reads the sizes from the zip64 extra field
  ASSERT_TRUE(members.ok()) << members.status().message();
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[1].size, 3u << 19);
  EXPECT_EQ(zip.substr((*members)[1].data_offset, (*members)[1].size), ReadFile(f.b));
  // End record saturated; the locator before it points at the zip64 end record.
  const size_t end = zip.size() - 22;
  EXPECT_EQ(Read(zip, end + 10, 2), 0xFFFFu);
  EXPECT_EQ(Read(zip, end + 16, 4), 0xFFFFFFFFu);
  const size_t locator = end - 20;
  ASSERT_EQ(Read(zip, locator, 4), 0x07064b50u);
  const size_t record = Read(zip, locator + 8, 8);
  ASSERT_EQ(Read(zip, record, 4), 0x06064b50u);
  EXPECT_EQ(Read(zip, record + 32, 8), 2u);  // entries
  const uint64_t directory = Read(zip, record + 48, 8);
  EXPECT_EQ(Read(zip, directory, 4), 0x02014b50u);
  EXPECT_EQ(directory + Read(zip, record + 40, 8), record);
}

TEST(ZipWriter, AMissingMemberFileIsAnError) {
  Fixture f;
  auto status = WriteStoredZip(f.zip, {{.name = "x.npy", .path = f.a + ".missing"}});
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find(".missing"), std::string::npos);
}

}  // namespace
}  // namespace inferd::batch
