// Reading TLS credential files (certificates, keys, CAs) for both frontends: the whole file,
// so that a missing or unreadable file is told apart from one that OpenSSL or gRPC rejects.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace inferd::security {

// `what` names the file's role in messages ("certificate", "private key", "client CA").
// INVALID_ARGUMENT naming the file when it cannot be read or is empty.
Result<std::string> ReadPemFile(std::string_view what, const std::string& path);

}  // namespace inferd::security
