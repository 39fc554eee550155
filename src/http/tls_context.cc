#include "http/tls_context.h"

#include <fmt/format.h>
#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "security/pem_file.h"

namespace inferd::http {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;

// Resumed sessions must carry this, or OpenSSL refuses them once client certificates are
// verified ("session id context uninitialized").
constexpr unsigned char kSessionIdContext[] = "inferd";

// OpenSSL's reasons are terse ("PEM lib", "unsupported"), so say what the file should hold.
Status Unusable(std::string_view what, const std::string& path, std::string_view expected,
                const boost::system::error_code& ec) {
  return InvalidArgument(fmt::format("TLS {} file '{}' cannot be used (need {}): {}", what, path,
                                     expected, ec.message()));
}

}  // namespace

Result<std::unique_ptr<ssl::context>> CreateServerTlsContext(const HttpServer::Options::Tls& tls) {
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return InvalidArgument("TLS needs both a certificate file and a private key file");
  }
  ASSIGN_OR_RETURN(const std::string cert, security::ReadPemFile("certificate", tls.cert_file));
  ASSIGN_OR_RETURN(const std::string key, security::ReadPemFile("private key", tls.key_file));

  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  context->set_options(ssl::context::default_workarounds);
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_session_id_context(native, kSessionIdContext, sizeof(kSessionIdContext) - 1);
  // OpenSSL would otherwise ask for an encrypted key's passphrase on the terminal.
  context->set_password_callback(
      [](std::size_t, ssl::context::password_purpose) { return std::string(); });

  boost::system::error_code ec;
  context->use_certificate_chain(net::buffer(cert), ec);
  if (ec) return Unusable("certificate", tls.cert_file, "a PEM certificate chain", ec);
  context->use_private_key(net::buffer(key), ssl::context::pem, ec);
  if (ec) {
    return Unusable("private key", tls.key_file,
                    "the certificate's private key, PEM and unencrypted", ec);
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return InvalidArgument(fmt::format("TLS private key file '{}' does not match certificate '{}'",
                                       tls.key_file, tls.cert_file));
  }

  if (!tls.client_ca_file.empty()) {
    ASSIGN_OR_RETURN(const std::string ca, security::ReadPemFile("client CA", tls.client_ca_file));
    context->add_certificate_authority(net::buffer(ca), ec);
    if (ec) return Unusable("client CA", tls.client_ca_file, "PEM CA certificates", ec);
    // The CA names go into the CertificateRequest, so a client holding several certificates
    // can pick the right one.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(native, names);
    }
    context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  } else {
    context->set_verify_mode(ssl::verify_none);
  }
  return context;
}

}  // namespace inferd::http
