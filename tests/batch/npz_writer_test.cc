#include "batch/npz_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
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

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Rows [first, first + rows) of two outputs: "a" [rows, 3] fp32 and "b" [rows, 2] int64.
std::vector<Tensor> Rows(int64_t first, int64_t rows) {
  Tensor a("a", DataType::kFp32, {rows, 3});
  Tensor b("b", DataType::kInt64, {rows, 2});
  std::vector<float> av;
  std::vector<int64_t> bv;
  for (int64_t r = first; r < first + rows; ++r) {
    for (int i = 0; i < 3; ++i) av.push_back(static_cast<float>(r) + 0.25f * i);
    for (int i = 0; i < 2; ++i) bv.push_back(r * 10 + i);
  }
  std::memcpy(a.AllocateData(av.size() * 4).data(), av.data(), av.size() * 4);
  std::memcpy(b.AllocateData(bv.size() * 8).data(), bv.data(), bv.size() * 8);
  return {a, b};
}

class NpzWriterTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const std::string& p : {whole_, resumed_}) std::filesystem::remove(p);
  }
  std::vector<std::string> Leftovers(const std::string& path) const {
    std::vector<std::string> found;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::filesystem::path(path).parent_path())) {
      const std::string name = entry.path().string();
      if (name != path && name.rfind(path, 0) == 0) found.push_back(name);
    }
    return found;
  }
  std::string whole_ = TempPath("npz_whole.npz"), resumed_ = TempPath("npz_resumed.npz");
};

TEST_F(NpzWriterTest, WritesAnArrayPerOutputWithTheRowCountInItsHeader) {
  auto writer = OpenNpzWriter(whole_, std::nullopt);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->WriteRows(Rows(0, 4), 4).ok());
  ASSERT_TRUE((*writer)->WriteRows(Rows(4, 3), 3).ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  (*writer)->RemoveScratchFiles();
  EXPECT_TRUE(Leftovers(whole_).empty());
  auto members = ListStoredZipMembers(whole_);
  ASSERT_TRUE(members.ok()) << members.status().message();
  ASSERT_EQ(members->size(), 2u);
  const std::string zip = ReadFile(whole_);
  const Shape shapes[] = {{7, 3}, {7, 2}};
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ((*members)[i].name, i == 0 ? "a.npy" : "b.npy");
    auto header = ParseNpyHeader(zip.substr((*members)[i].data_offset, (*members)[i].size));
    ASSERT_TRUE(header.ok()) << header.status().message();
    EXPECT_EQ(header->shape, shapes[i]);
    EXPECT_EQ((*members)[i].size, 128 + 7 * (i == 0 ? 12u : 16u));
  }
}

TEST_F(NpzWriterTest, AResumeDropsRowsPastTheCheckpointAndEndsByteIdentical) {
  {
    auto writer = OpenNpzWriter(whole_, std::nullopt);
    ASSERT_TRUE(writer.ok());
    for (int64_t first = 0; first < 9; first += 3) {
      ASSERT_TRUE((*writer)->WriteRows(Rows(first, 3), 3).ok());
    }
    ASSERT_TRUE((*writer)->Finish().ok());
    (*writer)->RemoveScratchFiles();
  }
  uint64_t checkpointed = 0;
  {
    auto writer = OpenNpzWriter(resumed_, std::nullopt);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->WriteRows(Rows(0, 3), 3).ok());
    auto bytes = (*writer)->Flush();  // what the checkpoint records
    ASSERT_TRUE(bytes.ok());
    checkpointed = *bytes;
    ASSERT_TRUE((*writer)->WriteRows(Rows(3, 3), 3).ok());  // written, then killed
    ASSERT_TRUE((*writer)->Flush().ok());
  }
  auto writer = OpenNpzWriter(resumed_, checkpointed);
  ASSERT_TRUE(writer.ok()) << writer.status().message();
  for (int64_t first = 3; first < 9; first += 3) {
    ASSERT_TRUE((*writer)->WriteRows(Rows(first, 3), 3).ok());
  }
  ASSERT_TRUE((*writer)->Finish().ok());
  (*writer)->RemoveScratchFiles();
  EXPECT_EQ(ReadFile(resumed_), ReadFile(whole_));
  EXPECT_TRUE(Leftovers(resumed_).empty());
}

TEST_F(NpzWriterTest, RefusesBytesOutputsAndAResumeWithoutItsParts) {
  auto writer = OpenNpzWriter(whole_, std::nullopt);
  ASSERT_TRUE(writer.ok());
  Tensor text("label", DataType::kBytes, {1, 1});
  const char bytes[] = {1, 0, 0, 0, 'x'};
  text.SetData(std::vector<std::byte>(reinterpret_cast<const std::byte*>(bytes),
                                      reinterpret_cast<const std::byte*>(bytes) + 5));
  auto status = (*writer)->WriteRows({text}, 1);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("numbers only"), std::string::npos);
  EXPECT_FALSE(OpenNpzWriter(TempPath("npz_never_written.npz"), 1000).ok());
}

}  // namespace
}  // namespace inferd::batch
