// The static files inferd serves over HTTP — the OpenAPI description (openapi.json) and the web
// console (console/*) — compiled into the binary from src/web by embed_files.cmake, so a server
// needs no file but its models at run time (and no CDN: servers often have no internet).
// Read-only data; thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace inferd::web {

struct WebFile {
  std::string_view name;          // path under src/web, e.g. "console/index.html"
  std::string_view content_type;  // e.g. "text/html; charset=utf-8"
  std::string_view body;          // the file's bytes
};

// Every embedded file, in the order CMakeLists.txt lists them.
std::span<const WebFile> WebFiles();

// The file called `name`; nullptr when there is none.
const WebFile* FindWebFile(std::string_view name);

}  // namespace inferd::web
