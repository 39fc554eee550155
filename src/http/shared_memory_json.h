// The system shared memory extension over HTTP (Triton's documents):
//   GET  /v2/systemsharedmemory[/region/{r}]/status → [{"name","key","offset","byte_size"}]
//   POST /v2/systemsharedmemory/region/{r}/register  {"key": "/shm", "offset": 0, "byte_size": N}
//   POST /v2/systemsharedmemory[/region/{r}]/unregister
// Answers the JSON body to send ("" for register and unregister), or the error.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "handler/request_handler.h"
#include "http/router.h"

namespace inferd::http {

Result<std::string> SharedMemoryJson(const handler::RequestHandler& handler, Endpoint endpoint,
                                     const std::string& region, std::string_view body);

}  // namespace inferd::http
