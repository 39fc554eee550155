#include "grpc/grpc_server.h"

#include <absl/synchronization/mutex.h>
#include <fmt/format.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "grpc/channelz_connections.h"
#include "grpc/infer_pollers.h"
#include "grpc/inference_service.h"
#include "security/pem_file.h"

namespace inferd::grpc {
namespace {

constexpr std::chrono::milliseconds kShutdownGrace{5000};
constexpr const char* kServiceName = "inference.GRPCInferenceService";

// Plaintext, or TLS from the PEM files. gRPC parses the PEM only when the port is bound, so a
// malformed file surfaces as a failed listen (see Start); `inferd serve` builds the HTTP
// frontend first from the same files, which names the fault precisely.
Result<std::shared_ptr<::grpc::ServerCredentials>> MakeCredentials(
    const GrpcServer::Options::Tls& tls) {
  if (!tls.enabled()) return ::grpc::InsecureServerCredentials();
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return InvalidArgument("TLS needs both a certificate file and a private key file");
  }
  ::grpc::SslServerCredentialsOptions ssl;
  ::grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  ASSIGN_OR_RETURN(pair.cert_chain, security::ReadPemFile("certificate", tls.cert_file));
  ASSIGN_OR_RETURN(pair.private_key, security::ReadPemFile("private key", tls.key_file));
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!tls.client_ca_file.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_root_certs, security::ReadPemFile("client CA", tls.client_ca_file));
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  } else {
    ssl.client_certificate_request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  }
  return ::grpc::SslServerCredentials(ssl);
}

int InferThreads(int requested) {
  if (requested > 0) return requested;
  return std::clamp(static_cast<int>(std::thread::hardware_concurrency()) / 2, 1, 4);
}

}  // namespace

class GrpcServer::Impl {
 public:
  Impl(const Options& options, handler::RequestHandler* handler)
      : options_(options),
        handler_(handler),
        service_(InferenceService::Options{options.max_stream_requests_in_flight,
                                           options.payload_logger},
                 handler),
        pollers_(
            InferPollers::Options{InferThreads(options.infer_threads), 8, options.payload_logger},
            &service_, handler) {}

  Status Start() {
    if (options_.max_message_bytes <= 0) {
      return InvalidArgument(fmt::format("gRPC max message size must be positive, got {}",
                                         options_.max_message_bytes));
    }
    // Process-wide switch; grpc++'s own grpc.health.v1.Health implementation (Check and Watch).
    ::grpc::EnableDefaultHealthCheckService(true);
    // Debian's Abseil tracks the lock order of every absl::Mutex that gRPC takes (a deadlock
    // detector meant for debug builds): about 5% of the gRPC threads' CPU in a profile under
    // load, for a check that only reports. Process-wide; gRPC's locking is unchanged.
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
    const bool ipv6 = options_.host.find(':') != std::string::npos;
    const std::string address = ipv6 ? fmt::format("[{}]:{}", options_.host, options_.port)
                                     : fmt::format("{}:{}", options_.host, options_.port);
    ASSIGN_OR_RETURN(auto credentials, MakeCredentials(options_.tls));
    ::grpc::ServerBuilder builder;
    builder.AddListeningPort(address, credentials, &port_);
    builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
    builder.SetMaxSendMessageSize(options_.max_message_bytes);
    builder.RegisterService(&service_);
    pollers_.AddTo(builder);
    grpc_server_ = builder.BuildAndStart();
    if (grpc_server_ == nullptr || port_ == 0) {
      return Unavailable(fmt::format(
          "cannot listen for gRPC on {}{}", address,
          options_.tls.enabled() ? " (or its TLS certificate or key is not valid PEM)" : ""));
    }
    pollers_.Start();
    if (options_.tls.enabled()) {
      spdlog::info("gRPC on port {}: TLS with certificate '{}'{}", port_, options_.tls.cert_file,
                   options_.tls.client_ca_file.empty()
                       ? ""
                       : fmt::format(", client certificates verified against '{}'",
                                     options_.tls.client_ca_file));
    }
    // gRPC keeps its connections to itself: the gauge reads them from channelz at each scrape.
    handler_->connections().SetProbe([this] { return channelz_.Read(); });
    if (auto* health = grpc_server_->GetHealthCheckService()) {
      // Readiness is settled once the facade exists (see InferenceServer::IsReady).
      const bool ready = handler_->IsReady();
      health->SetServingStatus(ready);
      health->SetServingStatus(kServiceName, ready);
    }
    return Status::Ok();
  }

  uint16_t port() const { return static_cast<uint16_t>(port_); }

  void SetNotServing() {
    if (grpc_server_ == nullptr) return;
    if (auto* health = grpc_server_->GetHealthCheckService()) {
      health->SetServingStatus(false);
      health->SetServingStatus(kServiceName, false);
    }
  }

  void Stop(std::chrono::milliseconds grace) {
    if (stopped_.exchange(true) || grpc_server_ == nullptr) return;
    if (auto* health = grpc_server_->GetHealthCheckService()) health->Shutdown();
    pollers_.StopAccepting();
    grpc_server_->Shutdown(std::chrono::system_clock::now() + grace);
    grpc_server_->Wait();
    pollers_.Stop();  // after the server's shutdown, before its completion queues go
    handler_->connections().SetProbe(nullptr);  // no connections left; the probe's `this` goes
  }

 private:
  const Options options_;
  handler::RequestHandler* const handler_;
  // Both must outlive grpc_server_ (declared first, destroyed last).
  InferenceService service_;
  InferPollers pollers_;  // owns ModelInfer's completion queues
  std::unique_ptr<::grpc::Server> grpc_server_;
  int port_ = 0;
  std::atomic<bool> stopped_{false};
  ChannelzConnections channelz_;
};

Result<std::unique_ptr<GrpcServer>> GrpcServer::Create(const Options& options,
                                                       handler::RequestHandler* handler) {
  auto impl = std::make_unique<Impl>(options, handler);
  RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl)));
}

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GrpcServer::~GrpcServer() { Stop(); }
uint16_t GrpcServer::port() const { return impl_->port(); }
void GrpcServer::Stop() { impl_->Stop(kShutdownGrace); }
void GrpcServer::SetNotServing() { impl_->SetNotServing(); }
void GrpcServer::Drain(std::chrono::milliseconds timeout) { impl_->Stop(timeout); }

}  // namespace inferd::grpc
