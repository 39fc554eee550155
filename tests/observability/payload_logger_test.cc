#include "observability/payload_logger.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace inferd::observability {
namespace {

// A loopback port that listens but never accepts: connections complete (the kernel's
// backlog) and then nothing answers — a sink that hangs.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 64);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  int port() const { return port_; }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A port nothing listens on: bound, then closed.
int DeadPort() {
  SilentListener l;
  return l.port();
}

PayloadLogger::Payload Event() {
  return {"id-1", "mlp", 0, "application/json", std::nullopt,
          std::make_shared<const std::string>("{}")};
}

TEST(PayloadLogger, RejectsBadOptions) {
  EXPECT_FALSE(PayloadLogger::Create({.url = "ftp://x"}).ok());
  EXPECT_FALSE(PayloadLogger::Create({.url = "http://x", .sample_rate = 1.5}).ok());
  EXPECT_FALSE(PayloadLogger::Create({.url = "http://x", .max_queued = 0}).ok());
  EXPECT_FALSE(
      PayloadLogger::Create({.url = "http://x", .min_backoff_ms = 10, .max_backoff_ms = 5}).ok());
  EXPECT_FALSE(ParsePayloadLogMode("both").ok());
}

TEST(PayloadLogger, CountsEventsADeadSinkNeverReceives) {
  auto logger = PayloadLogger::Create(
      {.url = "http://127.0.0.1:" + std::to_string(DeadPort()) + "/", .timeout_ms = 500});
  ASSERT_TRUE(logger.ok());
  (*logger)->LogRequest(Event());
  (*logger)->LogResponse(Event());
  (*logger)->Flush();
  EXPECT_EQ((*logger)->dropped_sink_error(), 2u);
  EXPECT_EQ((*logger)->sent(), 0u);
  EXPECT_NE((*logger)->MetricsText().find(
                "inferd_payload_log_events_dropped_total{reason=\"sink_error\"} 2"),
            std::string::npos);
}

// A sink that accepts connections and closes them at once (every send fails), counting them.
class RefusingSink {
 public:
  RefusingSink() : thread_([this] { Serve(); }) {}
  ~RefusingSink() {
    stop_ = true;
    ::shutdown(listener_.fd(), SHUT_RDWR);
    thread_.join();
  }
  int port() const { return listener_.port(); }
  int connections() const { return connections_.load(); }

 private:
  void Serve() {
    for (;;) {
      int fd = ::accept(listener_.fd(), nullptr, nullptr);
      if (fd < 0 || stop_) {
        if (fd >= 0) ::close(fd);
        return;
      }
      ++connections_;
      ::close(fd);
    }
  }
  SilentListener listener_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

TEST(PayloadLogger, BacksOffFromAFailingSinkInsteadOfTryingItForEveryEvent) {
  RefusingSink sink;
  auto logger = PayloadLogger::Create({.url = "http://127.0.0.1:" + std::to_string(sink.port()),
                                       .timeout_ms = 500,
                                       .min_backoff_ms = 2000});
  ASSERT_TRUE(logger.ok());
  for (int i = 0; i < 50; ++i) (*logger)->LogRequest(Event());
  (*logger)->Flush();
  EXPECT_EQ((*logger)->dropped_sink_error() + (*logger)->dropped_queue_full(), 50u);
  EXPECT_EQ((*logger)->sent(), 0u);
  EXPECT_LE(sink.connections(), 2);  // the first failure starts a 2 s back-off
}

TEST(PayloadLogger, DropsWhatDoesNotFitBehindAHangingSinkWithoutBlocking) {
  SilentListener sink;
  auto logger = PayloadLogger::Create({.url = "http://127.0.0.1:" + std::to_string(sink.port()),
                                       .max_queued = 4,
                                       .timeout_ms = 300});
  ASSERT_TRUE(logger.ok());
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) (*logger)->LogRequest(Event());
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(100));  // enqueueing never waits for the sink
  EXPECT_GE((*logger)->dropped_queue_full(), 45u);
}

TEST(PayloadLogger, SamplesAboutTheConfiguredShare) {
  auto none = PayloadLogger::Create({.url = "http://127.0.0.1:1", .sample_rate = 0});
  auto all = PayloadLogger::Create({.url = "http://127.0.0.1:1", .sample_rate = 1});
  auto half = PayloadLogger::Create({.url = "http://127.0.0.1:1", .sample_rate = 0.5});
  int n_none = 0, n_all = 0, n_half = 0;
  for (int i = 0; i < 2000; ++i) {
    n_none += (*none)->Sample();
    n_all += (*all)->Sample();
    n_half += (*half)->Sample();
  }
  EXPECT_EQ(n_none, 0);
  EXPECT_EQ(n_all, 2000);
  EXPECT_GT(n_half, 800);
  EXPECT_LT(n_half, 1200);
}

TEST(PayloadLogger, ModeRequestLogsNoResponses) {
  auto logger = PayloadLogger::Create(
      {.url = "http://127.0.0.1:" + std::to_string(DeadPort()), .mode = PayloadLogMode::kRequest});
  (*logger)->LogResponse(Event());
  (*logger)->LogRequest(Event());
  (*logger)->Flush();
  EXPECT_EQ((*logger)->dropped_sink_error(), 1u);
}

TEST(PayloadLogger, RendersALazyBodyOnItsOwnThreadAndOnlyForEventsItSends) {
  SilentListener sink;
  // No backoff: every event that leaves the queue is tried (and so rendered). With the default
  // backoff, one arriving while the first failure's backoff runs is dropped unrendered.
  auto logger = PayloadLogger::Create({.url = "http://127.0.0.1:" + std::to_string(sink.port()),
                                       .max_queued = 1,
                                       .timeout_ms = 200,
                                       .min_backoff_ms = 0,
                                       .max_backoff_ms = 0});
  ASSERT_TRUE(logger.ok());
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> renders{0}, on_caller{0};
  for (int i = 0; i < 10; ++i) {
    PayloadLogger::Payload payload = Event();
    payload.body = nullptr;
    payload.render_body = [&renders, &on_caller, caller] {
      ++renders;
      if (std::this_thread::get_id() == caller) ++on_caller;
      return std::string("{}");
    };
    (*logger)->LogRequest(std::move(payload));
  }
  (*logger)->Flush();
  EXPECT_GE((*logger)->dropped_queue_full(), 8u);
  // Dropped events are never rendered; the ones tried are, on the logger's thread.
  EXPECT_EQ(renders.load(), static_cast<int>(10 - (*logger)->dropped_queue_full()));
  EXPECT_EQ(renders.load(), static_cast<int>((*logger)->dropped_sink_error()));
  EXPECT_EQ(on_caller.load(), 0);
}

TEST(PayloadLogger, EventIdsAreVersion4Uuids) {
  const std::string id = PayloadLogger::NewEventId();
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[14], '4');
  EXPECT_NE(id, PayloadLogger::NewEventId());
}

}  // namespace
}  // namespace inferd::observability
