// Fuzzes URL handling: MatchRoute on the input as a request target, ApiCategoryOf on what it
// matches, and PercentDecode on the raw input. Checks that a matched model name is never one the
// router promises to reject (empty, ".", "..", or holding '/'), and that a console file name is
// one path segment (the file table is looked up by it).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  auto route = inferd::http::MatchRoute(target);
  if (route.ok()) {
    (void)inferd::http::ApiCategoryOf(route->endpoint);
    const std::string& model = route->model;
    if (!model.empty() && (model == "." || model == ".." || model.find('/') != model.npos)) {
      __builtin_trap();
    }
    if (route->file.find('/') != std::string::npos) __builtin_trap();
  }
  (void)inferd::http::PercentDecode(target);
  return 0;
}
