// Server-side TLS for the HTTP frontend: the OpenSSL context (through Asio) that every HTTPS
// connection of one listener shares, built from the PEM files in HttpServer::Options::Tls.
// Called once by HttpServer::Create, before it listens; every error names the file at fault.
#pragma once

#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "core/status.h"
#include "http/http_server.h"

namespace inferd::http {

// TLS 1.2 or later with OpenSSL's default ciphers. With tls.client_ca_file set, a client must
// present a certificate that chains to one of its CAs, or the handshake fails. INVALID_ARGUMENT
// when a file cannot be read, is not PEM of the expected kind, or the key does not match the
// certificate; an encrypted key is refused rather than prompting for a passphrase.
Result<std::unique_ptr<boost::asio::ssl::context>> CreateServerTlsContext(
    const HttpServer::Options::Tls& tls);

}  // namespace inferd::http
