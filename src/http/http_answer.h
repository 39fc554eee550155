// An HTTP answer as the endpoint functions make it and the session writes it: status, content
// type, body and extra headers; and the two answers every endpoint shares. Internal to src/http.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace inferd::http {

struct HttpAnswer {
  int status = 200;
  std::string content_type = "application/json";  // "" = no Content-Type header
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A v2 error answer ({"error": message}) with the status's HTTP code (status_mapping.h).
HttpAnswer ErrorAnswer(const Status& status);
// An answer with neither body nor Content-Type.
HttpAnswer EmptyAnswer(int status);

}  // namespace inferd::http
