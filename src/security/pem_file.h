// TLS credential files (certificates, keys, CAs) for both frontends: their settings, and reading
// each whole file, so that a missing or unreadable file is told apart from one that OpenSSL or
// gRPC rejects.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace inferd::security {

// A listener's TLS credentials, as PEM file paths. cert_file and key_file both empty =
// plaintext (the default); both set = the port speaks only TLS. Used by both frontends.
struct TlsFiles {
  std::string cert_file;       // certificate chain, the server's own certificate first
  std::string key_file;        // its private key, unencrypted
  std::string client_ca_file;  // set = mutual TLS: a client certificate issued by one of these
                               // CAs is required and verified; empty = none asked for
  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// `what` names the file's role in messages ("certificate", "private key", "client CA").
// INVALID_ARGUMENT naming the file when it cannot be read or is empty.
Result<std::string> ReadPemFile(std::string_view what, const std::string& path);

}  // namespace inferd::security
