// Session: one HTTP connection of HttpServer, created by StartSession (http_session.h). It reads
// requests (keep-alive), routes them, calls handler::RequestHandler and writes the answers, on
// its io_context's one thread; it keeps itself alive with shared_from_this while an operation
// is pending. Its methods are defined in two files: http_session.cc (reading, parsing,
// dispatch, the control endpoints' answers, closing) and session_infer.cc (inference: the body's
// reuse, the answer's direct write, the disconnect watch). Internal to src/http.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include "core/inference_request.h"
#include "core/status.h"
#include "handler/admission.h"
#include "handler/call_record.h"
#include "handler/request_handler.h"
#include "http/connection_stream.h"
#include "http/handler_memory.h"
#include "http/http_answer.h"
#include "http/http_server.h"
#include "http/http_session.h"
#include "http/pool_allocator.h"
#include "http/router.h"
#include "protocol/v2_json_codec.h"

namespace inferd::http {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(TcpSocket socket, ListenerState* state);
  ~Session();

  void Run();

 private:
  // Requests keep their header fields in the session's pool (see PoolAllocator).
  using RequestFields = boost::beast::http::basic_fields<PoolAllocator<char>>;
  using Request = boost::beast::http::request<boost::beast::http::string_body, RequestFields>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  static constexpr std::string_view kTraceParent = "traceparent";
  static constexpr size_t kFirstReadBytes = 4096;

  // http_session.cc: reading and parsing.

  // TLS first, within the header timeout: a client that connects and stalls, or speaks
  // plaintext HTTP to the TLS port, is closed without an answer.
  void Handshake();
  // Waits (idle timeout) for the first byte of the next request, then gives its header the
  // shorter header timeout, so a client that trickles a header cannot hold the connection.
  void DoRead();
  // Parses what the buffer holds, without I/O: a request that arrived whole (the usual case)
  // goes on to OnRead at once, where Beast's reads would pass the header and then the body
  // through the io_context's queue, one round each. What is missing is read: the header
  // within the header timeout, the body within the idle timeout.
  void Parse();
  void ParseBody();
  void ReadHeader();
  // Room for the JSON parser's padding, so a tensor body is parsed where it lies, uncopied.
  void PrepareBody();
  void OnRead(boost::beast::error_code ec);
  std::optional<std::string_view> Header(std::string_view name) const;
  // The peer's IP address (for the rate limit), without the port.
  std::string PeerAddress();

  // http_session.cc: dispatch and the answers of the other endpoints.
  void Dispatch();
  void HandleRepositoryControl(const Route& route);
  void WriteAnswer(HttpAnswer answer);
  Response MakeResponse(boost::beast::http::status status, std::string body);
  void SendStatus(const Status& status);
  void SendRejection(const handler::Rejection& rejection);
  void SendError(boost::beast::http::status status, const std::string& message, bool keep_alive);
  void Write(Response res);
  // The access log line and the trace of the request, answered with `status` and a body of
  // `bytes_out` bytes.
  void Observe(int status, size_t bytes_out);
  void OnWrite(boost::beast::error_code ec);
  void Close();
  // After an answer that ends the connection: over TLS, close_notify first (bounded by the
  // header timeout), so the client can tell the end from a cut.
  void CloseAfterAnswer();

  // session_infer.cc: inference.

  // While the model works, notice a client that hangs up, so the request it queued is
  // cancelled and never runs (started by the sweeper a tick after the request queued). When
  // the socket turns readable, read (through TLS when the connection has it): an end of
  // stream — a plain close, a cut, or a TLS close_notify — is a client gone; data is a
  // pipelined request, kept in the buffer for the next read. The read may still be pending
  // when the answer is written; the next request's read then waits for it.
  void WatchForDisconnect();
  void OnWatchRead(boost::beast::error_code ec, size_t n,
                   const std::shared_ptr<handler::InferCall>& infer);
  void HandleInfer(Route route);
  // The two fields every inference reads, found in one pass over the fields rather than a
  // search of the field set each (neither is a field Beast knows by name): the binary
  // extension's JSON header length (INVALID_ARGUMENT when it is not a byte count) and the
  // W3C traceparent.
  Status ReadInferFields(std::optional<size_t>& header_length, std::string_view& traceparent);
  // Hands the request to the payload logger when it samples this one (log_id_ then names it).
  void LogRequestPayload(const Route& route, std::optional<size_t> header_length,
                         const std::shared_ptr<std::string>& body);
  // The request body as a shared buffer the decoded tensors can borrow. The previous request's
  // buffer and its control block are reused when nothing holds them any more (the answer is
  // written and no payload log or queued copy kept them); the body read into request_ swaps
  // its bytes in, and the next request's body starts in the old buffer. Only buffers up to
  // kKeptBodyBytes are kept, so one large request does not pin its size to the connection.
  std::shared_ptr<std::string> TakeBody();
  // `spare` itself when this session holds its only reference (then reset for reuse), else a
  // new T. Defined in session_infer.cc, its only user.
  template <typename T>
  static std::shared_ptr<T> ReuseOrMake(std::shared_ptr<T>& spare);
  static void Reset(std::string& body);
  static void Reset(handler::InferCall& call);
  void OnInferDone(Result<InferenceResponse> result);
  // A successful inference's answer (in answer_), written without Beast's serializer: the
  // head is formatted into head_ and both go out in one gather write. Both buffers keep their
  // capacity across the connection's requests.
  void WriteInferAnswer();
  // The answer went out in full with no wait. Inside the model's inline call (see HandleInfer)
  // the next read starts once that call has returned.
  void WriteDone();

  // `handler` with its socket operations allocated from this connection's handler_memory_.
  template <typename Handler>
  WithHandlerMemory<Handler> InMemory(Handler handler) {
    return WithHandlerMemory<Handler>(handler_memory_, std::move(handler));
  }

  HandlerMemory handler_memory_;  // the socket operations' state (see InMemory)
  ConnectionStream stream_;
  ListenerState* const state_;
  const HttpServer::Options& options_;
  handler::RequestHandler* const handler_;
  boost::beast::flat_buffer buffer_;
  // Declared before the parser and the request, whose header fields it holds.
  std::pmr::unsynchronized_pool_resource header_pool_;
  std::optional<
      boost::beast::http::request_parser<boost::beast::http::string_body, PoolAllocator<char>>>
      parser_;
  Request request_;
  Response response_;
  handler::CallRecord record_;
  std::shared_ptr<Session> in_flight_;       // this session, held while its inference runs
  std::shared_ptr<std::string> spare_body_;  // last request's body, for reuse
  std::string next_body_;  // an empty buffer with capacity, for the next request's body
  std::shared_ptr<handler::InferCall> spare_infer_;  // last request's InferCall, for reuse
  InferenceRequest answer_shape_;          // the requested outputs and parameters, for the encoder
  protocol::EncodedInferResponse answer_;  // the last inference answer's body (buffer reused)
  std::string head_;                       // its status line and headers (buffer reused)
  std::string log_id_;           // the payload log's ce-id of the current request; "" = not sampled
  uint64_t request_serial_ = 0;  // which request a disconnect watch belongs to
  bool keep_alive_ = true;
  bool answering_ = false;           // a request was read and its answer is not yet written
  bool infer_done_ = false;          // the current inference request has its result
  bool watch_reading_ = false;       // a disconnect watch's read is pending
  bool resume_after_watch_ = false;  // the next request's read waits for that read
  bool peer_gone_ = false;           // that read found the end of the stream
  bool in_infer_call_ = false;       // inside handler_->Infer (a model may answer inline)
  bool write_done_ = false;          // an answer written inline there, OnWrite still to run
  unsigned version_ = 11;
};

}  // namespace inferd::http
