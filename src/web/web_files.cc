#include "web/web_files.h"

namespace inferd::web {

const WebFile* FindWebFile(std::string_view name) {
  for (const WebFile& file : WebFiles()) {
    if (file.name == name) return &file;
  }
  return nullptr;
}

}  // namespace inferd::web
