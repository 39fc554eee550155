// InferenceService's RPCs of Triton's system shared memory and trace extensions: each one a
// call to handler::RequestHandler, as the HTTP endpoints are.
#include "grpc/inference_service.h"
#include "grpc/status_mapping.h"
#include "grpc/unary_call.h"

namespace inferd::grpc {

using security::ApiCategory;

::grpc::ServerUnaryReactor* InferenceService::SystemSharedMemoryStatus(
    Ctx* ctx, const inference::SystemSharedMemoryStatusRequest* request,
    inference::SystemSharedMemoryStatusResponse* response) {
  auto* call = new UnaryCall(handler_, ctx, "SystemSharedMemoryStatus");
  if (!call->Admit(ApiCategory::kSharedMemory)) return call;
  auto regions = handler_->SharedMemoryStatus(request->name());
  if (regions.ok()) {
    for (const auto& r : *regions) {
      auto& out = (*response->mutable_regions())[r.name];
      out.set_name(r.name);
      out.set_key(r.key);
      out.set_offset(r.offset);
      out.set_byte_size(r.byte_size);
    }
  }
  call->Complete(ToGrpcStatus(regions.status()));
  return call;
}

::grpc::ServerUnaryReactor* InferenceService::SystemSharedMemoryRegister(
    Ctx* ctx, const inference::SystemSharedMemoryRegisterRequest* request,
    inference::SystemSharedMemoryRegisterResponse*) {
  auto* call = new UnaryCall(handler_, ctx, "SystemSharedMemoryRegister");
  if (!call->Admit(ApiCategory::kSharedMemory)) return call;
  call->Complete(ToGrpcStatus(handler_->RegisterSharedMemory(
      request->name(), request->key(), request->offset(), request->byte_size())));
  return call;
}

::grpc::ServerUnaryReactor* InferenceService::SystemSharedMemoryUnregister(
    Ctx* ctx, const inference::SystemSharedMemoryUnregisterRequest* request,
    inference::SystemSharedMemoryUnregisterResponse*) {
  auto* call = new UnaryCall(handler_, ctx, "SystemSharedMemoryUnregister");
  if (!call->Admit(ApiCategory::kSharedMemory)) return call;
  call->Complete(ToGrpcStatus(handler_->UnregisterSharedMemory(request->name())));
  return call;
}

::grpc::ServerUnaryReactor* InferenceService::TraceSetting(
    Ctx* ctx, const inference::TraceSettingRequest* request,
    inference::TraceSettingResponse* response) {
  auto* call = new UnaryCall(handler_, ctx, "TraceSetting");
  if (!call->Admit(ApiCategory::kTrace)) return call;
  Result<handler::TraceSettings::Values> settings =
      handler_->GetTraceSettings(request->model_name());
  if (settings.ok() && !request->settings().empty()) {
    handler::TraceSettings::Update update;
    for (const auto& [key, value] : request->settings()) {
      // As in Triton: a setting sent without values is cleared.
      if (value.value().empty()) {
        update[key] = std::nullopt;
      } else {
        update[key] = std::vector<std::string>(value.value().begin(), value.value().end());
      }
    }
    settings = handler_->UpdateTraceSettings(request->model_name(), update);
  }
  if (settings.ok()) {
    for (const auto& [key, values] : *settings) {
      auto& out = (*response->mutable_settings())[key];
      for (const auto& v : values) out.add_value(v);
    }
  }
  call->Complete(ToGrpcStatus(settings.status()));
  return call;
}

}  // namespace inferd::grpc
