// TokenTable: the API keys (bearer tokens) read from --auth-token-file and the scope each one
// grants. Pure and thread-safe once built (read-only). The Authorizer asks it which scopes a
// presented token has; tokens are compared in constant time and never appear in a message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace inferd::security {

// What a token may do. `kAdmin` includes everything `kInfer` allows.
enum class Scope : uint8_t {
  kNone = 0,   // no token, or an unknown one
  kInfer = 1,  // inference, metadata, model config, statistics, metrics
  kAdmin = 2,  // also the repository API, routing/rollback, logging and trace settings
};

std::string_view ScopeName(Scope scope);
// "infer" or "admin"; INVALID_ARGUMENT otherwise.
Result<Scope> ParseScope(std::string_view name);
// Whether a token with scope `granted` may call an API that needs `required`.
bool ScopeAllows(Scope granted, Scope required);

// True when `a` equals `b`. Takes time that depends only on the lengths, never on where the
// first difference lies.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

class TokenTable {
 public:
  TokenTable() = default;

  // One `token scope` per line; blank lines and lines starting with '#' are ignored. Errors
  // name `source` and the line number, never the token. A token is 1..4096 printable
  // non-space ASCII characters; the same token twice is an error.
  static Result<TokenTable> Parse(std::string_view text, std::string_view source = "tokens");
  // Reads and parses a token file.
  static Result<TokenTable> Load(const std::filesystem::path& path);

  // Adds one token. INVALID_ARGUMENT for an empty or duplicate token.
  Status Add(std::string token, Scope scope);

  // The scope `token` grants; kNone for an unknown token. Compares against every entry, in
  // constant time each, so the answer's timing does not tell which entry (if any) matched.
  Scope Lookup(std::string_view token) const;

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string token;
    Scope scope;
  };
  std::vector<Entry> entries_;
};

}  // namespace inferd::security
