#include "security/token_table.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace inferd::security {
namespace {

constexpr size_t kMaxTokenLength = 4096;

bool IsTokenChar(char c) { return c > 0x20 && c < 0x7f; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kNone: return "none";
    case Scope::kInfer: return "infer";
    case Scope::kAdmin: return "admin";
  }
  return "none";
}

Result<Scope> ParseScope(std::string_view name) {
  if (name == "infer") return Scope::kInfer;
  if (name == "admin") return Scope::kAdmin;
  return InvalidArgument(fmt::format("unknown scope '{}': expected 'infer' or 'admin'", name));
}

bool ScopeAllows(Scope granted, Scope required) {
  return static_cast<uint8_t>(granted) >= static_cast<uint8_t>(required);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Walk the longer string whole, so the time depends on the lengths only.
  const size_t n = std::max(a.size(), b.size());
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

Status TokenTable::Add(std::string token, Scope scope) {
  if (token.empty()) return InvalidArgument("empty token");
  if (token.size() > kMaxTokenLength) {
    return InvalidArgument(fmt::format("token longer than {} characters", kMaxTokenLength));
  }
  for (char c : token) {
    if (!IsTokenChar(c)) return InvalidArgument("token holds a space or non-printable character");
  }
  if (scope == Scope::kNone) return InvalidArgument("a token needs a scope");
  if (Lookup(token) != Scope::kNone) return InvalidArgument("duplicate token");
  entries_.push_back(Entry{std::move(token), scope});
  return Status::Ok();
}

Scope TokenTable::Lookup(std::string_view token) const {
  Scope found = Scope::kNone;
  for (const Entry& e : entries_) {
    // No early exit: every entry is compared whatever matched before.
    if (ConstantTimeEquals(e.token, token)) found = e.scope;
  }
  return found;
}

Result<TokenTable> TokenTable::Parse(std::string_view text, std::string_view source) {
  TokenTable table;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = Trim(text.substr(0, eol));
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    const size_t space = line.find_first_of(" \t");
    auto error = [&](std::string_view what) {
      return InvalidArgument(fmt::format("{}:{}: {}", source, line_no, what));
    };
    if (space == std::string_view::npos) return error("expected 'token scope'");
    const std::string_view token = line.substr(0, space);
    const std::string_view scope_name = Trim(line.substr(space));
    if (scope_name.find_first_of(" \t") != std::string_view::npos) {
      return error("expected 'token scope' and nothing more");
    }
    auto scope = ParseScope(scope_name);
    if (!scope.ok()) return error(scope.status().message());
    if (Status s = table.Add(std::string(token), *scope); !s.ok()) return error(s.message());
  }
  return table;
}

Result<TokenTable> TokenTable::Load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(fmt::format("cannot read token file '{}'", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path.string());
}

}  // namespace inferd::security
