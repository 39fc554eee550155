// The one table from StatusCode to HTTP status, as Triton's HTTP frontend maps its errors.
#pragma once

#include <boost/beast/http/status.hpp>

#include "core/status.h"

namespace inferd::http {

inline boost::beast::http::status HttpStatusFor(StatusCode code) {
  using boost::beast::http::status;
  switch (code) {
    case StatusCode::kOk: return status::ok;
    case StatusCode::kInvalidArgument: return status::bad_request;
    case StatusCode::kNotFound: return status::not_found;
    case StatusCode::kUnavailable: return status::service_unavailable;
    case StatusCode::kResourceExhausted: return status::payload_too_large;
    case StatusCode::kDeadlineExceeded: return status::gateway_timeout;
    case StatusCode::kUnimplemented: return status::not_implemented;
    case StatusCode::kAlreadyExists: return status::conflict;
    case StatusCode::kFailedPrecondition: return status::bad_request;
    case StatusCode::kInternal: return status::internal_server_error;
    case StatusCode::kBadGateway: return status::bad_gateway;
  }
  return status::internal_server_error;
}

}  // namespace inferd::http
