#include "grpc/unary_call.h"

#include <fmt/format.h>

#include "observability/logging.h"

namespace inferd::grpc {
namespace {

constexpr std::string_view kServicePath = "/inference.GRPCInferenceService/";

// Looks a call's metadata up by lower-case name (gRPC keys arrive in lower case).
std::optional<std::string_view> MetadataValue(const ::grpc::ServerContextBase& ctx,
                                              std::string_view name) {
  const auto& metadata = ctx.client_metadata();
  auto it = metadata.find(::grpc::string_ref(name.data(), name.size()));
  if (it == metadata.end()) return std::nullopt;
  return std::string_view(it->second.data(), it->second.size());
}

}  // namespace

std::string_view ClientMetadata(const ::grpc::ServerContextBase& ctx, std::string_view name) {
  return MetadataValue(ctx, name).value_or(std::string_view());
}

handler::SteadyClock::time_point DeadlineOf(const ::grpc::ServerContextBase& ctx) {
  const auto deadline = ctx.deadline();  // system clock; far in the future without one
  const auto now = std::chrono::system_clock::now();
  if (deadline - now > std::chrono::hours(24 * 365)) return handler::SteadyClock::time_point::max();
  return handler::SteadyClock::now() +
         std::chrono::duration_cast<handler::SteadyClock::duration>(deadline - now);
}

std::string PeerAddress(std::string_view peer) {
  for (std::string_view scheme : {"ipv4:", "ipv6:"}) {
    if (peer.substr(0, scheme.size()) == scheme) peer.remove_prefix(scheme.size());
  }
  if (size_t colon = peer.rfind(':'); colon != std::string_view::npos) {
    peer = peer.substr(0, colon);
  }
  std::string out(peer);
  for (std::string_view bracket : {"%5B", "%5D", "[", "]"}) {
    for (size_t at; (at = out.find(bracket)) != std::string::npos;) out.erase(at, bracket.size());
  }
  return out;
}

UnaryCall::UnaryCall(handler::RequestHandler* handler, ::grpc::CallbackServerContext* ctx,
                     std::string_view rpc)
    : handler_(handler), ctx_(ctx), rpc_(rpc), record_(handler::RequestHandler::StartCall(0)) {}

std::optional<::grpc::Status> AdmitCall(const handler::RequestHandler& handler,
                                        ::grpc::ServerContextBase* ctx, security::ApiCategory api) {
  if (!handler.admission_enabled()) return std::nullopt;
  auto rejection = handler.Admit(
      api, [ctx](std::string_view name) { return MetadataValue(*ctx, name); },
      PeerAddress(ctx->peer()));
  if (!rejection) return std::nullopt;
  using Kind = handler::Rejection::Kind;
  ::grpc::StatusCode code = ::grpc::StatusCode::RESOURCE_EXHAUSTED;
  if (rejection->kind == Kind::kUnauthenticated) code = ::grpc::StatusCode::UNAUTHENTICATED;
  if (rejection->kind == Kind::kPermissionDenied) code = ::grpc::StatusCode::PERMISSION_DENIED;
  if (rejection->kind == Kind::kRateLimited) {
    ctx->AddTrailingMetadata("retry-after", std::to_string(rejection->retry_after_s));
  }
  return ::grpc::Status(code, rejection->message);
}

void ObserveCall(const handler::RequestHandler& handler, const handler::CallRecord& record,
                 const ::grpc::ServerContextBase& ctx, std::string_view path,
                 const ::grpc::Status& status, uint64_t bytes_out) {
  const std::string remote = ctx.peer();
  handler::CallOutcome outcome;
  outcome.method = "POST";
  outcome.path = path;
  outcome.status = static_cast<int>(status.error_code());
  outcome.error = !status.ok();
  outcome.bytes_out = bytes_out;
  outcome.remote = remote;
  handler.FinishCall(record, outcome);
}

bool UnaryCall::Admit(security::ApiCategory api) {
  auto refused = AdmitCall(*handler_, ctx_, api);
  if (!refused) return true;
  Complete(*refused);
  return false;
}

void UnaryCall::Complete(const ::grpc::Status& status, const google::protobuf::Message* in,
                         const google::protobuf::Message* out) {
  if (record_.traced) {
    ctx_->AddTrailingMetadata("traceparent", handler::RequestHandler::TraceParentOf(record_));
  }
  if (observability::AccessLogEnabled() || record_.traced) {
    if (in != nullptr) record_.body_bytes = in->ByteSizeLong();
    ObserveCall(*handler_, record_, *ctx_, fmt::format("{}{}", kServicePath, rpc_), status,
                status.ok() && out != nullptr ? out->ByteSizeLong() : 0);
  }
  Finish(status);
}

}  // namespace inferd::grpc
