#include "security/token_table.h"

#include <gtest/gtest.h>

namespace inferd::security {
namespace {

TEST(ConstantTimeEquals, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("secret", ""));
  EXPECT_FALSE(ConstantTimeEquals("", "s"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("a\0", 2), "a"));
}

TEST(Scope, AdminIncludesInfer) {
  EXPECT_TRUE(ScopeAllows(Scope::kAdmin, Scope::kInfer));
  EXPECT_TRUE(ScopeAllows(Scope::kAdmin, Scope::kAdmin));
  EXPECT_TRUE(ScopeAllows(Scope::kInfer, Scope::kInfer));
  EXPECT_FALSE(ScopeAllows(Scope::kInfer, Scope::kAdmin));
  EXPECT_FALSE(ScopeAllows(Scope::kNone, Scope::kInfer));
  EXPECT_TRUE(ScopeAllows(Scope::kNone, Scope::kNone));
}

TEST(TokenTable, ParsesTokensScopesCommentsAndBlankLines) {
  auto table = TokenTable::Parse("# tokens\n\n  alpha infer\r\nbeta\tadmin   \n");
  ASSERT_TRUE(table.ok()) << table.status().message();
  EXPECT_EQ(table->size(), 2u);
  EXPECT_EQ(table->Lookup("alpha"), Scope::kInfer);
  EXPECT_EQ(table->Lookup("beta"), Scope::kAdmin);
  EXPECT_EQ(table->Lookup("gamma"), Scope::kNone);
  EXPECT_EQ(table->Lookup(""), Scope::kNone);
  EXPECT_EQ(table->Lookup("alph"), Scope::kNone);
}

TEST(TokenTable, EmptyTextIsAnEmptyTable) {
  auto table = TokenTable::Parse("");
  ASSERT_TRUE(table.ok());
  EXPECT_TRUE(table->empty());
}

TEST(TokenTable, RejectsAnUnknownScopeNamingTheLineButNotTheToken) {
  auto table = TokenTable::Parse("ok infer\ns3cr3t root\n", "tokens.txt");
  ASSERT_FALSE(table.ok());
  EXPECT_NE(table.status().message().find("tokens.txt:2"), std::string::npos);
  EXPECT_NE(table.status().message().find("root"), std::string::npos);
  EXPECT_EQ(table.status().message().find("s3cr3t"), std::string::npos);
}

TEST(TokenTable, RejectsALineWithoutScope) {
  auto table = TokenTable::Parse("lonelytoken\n");
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().message().find("lonelytoken"), std::string::npos);
}

TEST(TokenTable, RejectsExtraFields) {
  EXPECT_FALSE(TokenTable::Parse("tok infer admin\n").ok());
}

TEST(TokenTable, RejectsDuplicateTokensWithoutNamingThem) {
  auto table = TokenTable::Parse("dup infer\ndup admin\n");
  ASSERT_FALSE(table.ok());
  EXPECT_NE(table.status().message().find(":2"), std::string::npos);
  EXPECT_EQ(table.status().message().find("dup "), std::string::npos);
}

TEST(TokenTable, AddRejectsEmptyNonPrintableAndScopeless) {
  TokenTable table;
  EXPECT_FALSE(table.Add("", Scope::kInfer).ok());
  EXPECT_FALSE(table.Add("a\x01", Scope::kInfer).ok());
  EXPECT_FALSE(table.Add("tok", Scope::kNone).ok());
  EXPECT_FALSE(table.Add(std::string(5000, 'x'), Scope::kInfer).ok());
  EXPECT_TRUE(table.Add("tok", Scope::kInfer).ok());
}

TEST(TokenTable, LoadFailsForAMissingFile) {
  auto table = TokenTable::Load("/nonexistent/inferd/tokens");
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace inferd::security
