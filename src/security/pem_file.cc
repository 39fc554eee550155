#include "security/pem_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace inferd::security {

Result<std::string> ReadPemFile(std::string_view what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgument(
        fmt::format("cannot read TLS {} file '{}': {}", what, path, std::strerror(errno)));
  }
  std::ostringstream data;
  data << in.rdbuf();
  if (in.bad() || data.str().empty()) {
    return InvalidArgument(fmt::format("TLS {} file '{}' is empty or unreadable", what, path));
  }
  return data.str();
}

}  // namespace inferd::security
