#include "batch/npy_format.h"

#include <gtest/gtest.h>

namespace inferd::batch {
namespace {

TEST(NpyFormat, AHeaderWrittenReadsBackWithItsTypeShapeAndOffset) {
  auto text = NpyHeaderText(DataType::kFp32, 1234, {3, 4});
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->size(), 128u);  // fixed, so that it can be rewritten in place
  auto header = ParseNpyHeader(*text);
  ASSERT_TRUE(header.ok()) << header.status().message();
  EXPECT_EQ(header->dtype, DataType::kFp32);
  EXPECT_EQ(header->shape, (Shape{1234, 3, 4}));
  EXPECT_EQ(header->data_offset, 128u);
}

TEST(NpyFormat, ReadsNumpysOwnHeader) {
  std::string dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }";
  dict.append(128 - 10 - dict.size() - 1, ' ');
  dict += '\n';
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(dict.size()) +
                      std::string(1, '\0') + dict;
  auto header = ParseNpyHeader(bytes);
  ASSERT_TRUE(header.ok()) << header.status().message();
  EXPECT_EQ(header->dtype, DataType::kInt64);
  EXPECT_EQ(header->shape, (Shape{5}));
}

TEST(NpyFormat, RefusesFortranOrderBigEndianAndNonArrays) {
  auto make = [](const std::string& dict) {
    return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(dict.size()) +
           std::string(1, '\0') + dict;
  };
  EXPECT_FALSE(
      ParseNpyHeader(make("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }")).ok());
  EXPECT_FALSE(
      ParseNpyHeader(make("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }")).ok());
  EXPECT_FALSE(ParseNpyHeader("PK\x03\x04 not an array").ok());
}

}  // namespace
}  // namespace inferd::batch
