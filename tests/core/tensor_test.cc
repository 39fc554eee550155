#include "core/tensor.h"

#include <gtest/gtest.h>

namespace inferd {
namespace {

TEST(Tensor, ElementCountRejectsNegativeAndOverflow) {
  EXPECT_EQ(ElementCount({2, 3, 4}), 24);
  EXPECT_EQ(ElementCount({}), 1);
  EXPECT_EQ(ElementCount({0, 5}), 0);
  EXPECT_EQ(ElementCount({-1, 5}), -1);
  EXPECT_EQ(ElementCount({1LL << 40, 1LL << 40}), -1);
}

TEST(Tensor, ValidateByteSizeChecksFixedSizeTypes) {
  Tensor t("x", DataType::kFp32, {2, 2});
  t.AllocateData(16);
  EXPECT_TRUE(t.ValidateByteSize().ok());
  t.AllocateData(12);
  Status s = t.ValidateByteSize();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'x'"), std::string::npos);
}

TEST(Tensor, BytesElementsRoundTrip) {
  std::vector<std::byte> buf;
  AppendBytesElement(buf, "hello");
  AppendBytesElement(buf, "");
  AppendBytesElement(buf, "w");
  auto parts = SplitBytesElements(buf);
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0], "hello");
  EXPECT_EQ((*parts)[1], "");
  EXPECT_EQ((*parts)[2], "w");
  Tensor t("s", DataType::kBytes, {3});
  t.SetData(std::move(buf));
  EXPECT_TRUE(t.ValidateByteSize().ok());
  t.set_shape({2});
  EXPECT_FALSE(t.ValidateByteSize().ok());
}

TEST(Tensor, TruncatedBytesElementIsAnError) {
  std::vector<std::byte> buf;
  AppendBytesElement(buf, "hello");
  buf.pop_back();
  EXPECT_FALSE(SplitBytesElements(buf).ok());
  buf.resize(2);
  EXPECT_FALSE(SplitBytesElements(buf).ok());
}

TEST(Tensor, BorrowedDataKeepsOwnerAlive) {
  auto owner = std::make_shared<std::string>("abcdefgh");
  Tensor t("b", DataType::kUint8, {8});
  t.SetData(std::as_bytes(std::span(owner->data(), owner->size())), owner);
  std::weak_ptr<std::string> weak = owner;
  owner.reset();
  EXPECT_FALSE(weak.expired());
  EXPECT_EQ(static_cast<char>(t.data()[7]), 'h');
}

}  // namespace
}  // namespace inferd
