// An HTTP answer as the endpoint functions make it and the session writes it: status, content
// type, body and extra headers. Internal to src/http.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace inferd::http {

struct HttpAnswer {
  int status = 200;
  std::string content_type = "application/json";  // "" = no Content-Type header
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace inferd::http
