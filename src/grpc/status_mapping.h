// The one table from inferd's StatusCode to gRPC status codes, consistent with the HTTP mapping
// in http/status_mapping.h (each inferd code has one gRPC code of the same name; BAD_GATEWAY,
// which gRPC lacks, is UNAVAILABLE).
#pragma once

#include <grpcpp/support/status.h>

#include "core/status.h"

namespace inferd::grpc {

inline ::grpc::StatusCode GrpcCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return ::grpc::StatusCode::OK;
    case StatusCode::kInvalidArgument:
      return ::grpc::StatusCode::INVALID_ARGUMENT;
    case StatusCode::kNotFound:
      return ::grpc::StatusCode::NOT_FOUND;
    case StatusCode::kUnavailable:
      return ::grpc::StatusCode::UNAVAILABLE;
    case StatusCode::kResourceExhausted:
      return ::grpc::StatusCode::RESOURCE_EXHAUSTED;
    case StatusCode::kDeadlineExceeded:
      return ::grpc::StatusCode::DEADLINE_EXCEEDED;
    case StatusCode::kUnimplemented:
      return ::grpc::StatusCode::UNIMPLEMENTED;
    case StatusCode::kAlreadyExists:
      return ::grpc::StatusCode::ALREADY_EXISTS;
    case StatusCode::kFailedPrecondition:
      return ::grpc::StatusCode::FAILED_PRECONDITION;
    case StatusCode::kInternal:
      return ::grpc::StatusCode::INTERNAL;
    // gRPC has no "bad gateway": the nearest code a client retries on.
    case StatusCode::kBadGateway:
      return ::grpc::StatusCode::UNAVAILABLE;
  }
  return ::grpc::StatusCode::INTERNAL;
}

inline ::grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return ::grpc::Status::OK;
  return ::grpc::Status(GrpcCodeFor(status.code()), status.message());
}

}  // namespace inferd::grpc
