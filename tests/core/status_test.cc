#include "core/status.h"

#include <gtest/gtest.h>

namespace inferd {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(Status, AssignOrReturnPropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(Status, ResultFromOkStatusIsAnInternalError) {
  Result<int> r{Status::Ok()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(Status, WithContextPrefixesTheMessage) {
  Status s = NotFound("no such model").WithContext("load 'm'");
  EXPECT_EQ(s.message(), "load 'm': no such model");
  EXPECT_EQ(s.ToString(), "NOT_FOUND: load 'm': no such model");
}

}  // namespace
}  // namespace inferd
