#include "http/http_answer.h"

#include "http/status_mapping.h"
#include "protocol/v2_json_codec.h"

namespace inferd::http {

HttpAnswer ErrorAnswer(const Status& status) {
  HttpAnswer answer;
  answer.status = static_cast<int>(HttpStatusFor(status.code()));
  answer.body = protocol::EncodeError(status.message());
  return answer;
}

HttpAnswer EmptyAnswer(int status) {
  HttpAnswer answer;
  answer.status = status;
  answer.content_type.clear();
  return answer;
}

}  // namespace inferd::http
