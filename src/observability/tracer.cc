#include "observability/tracer.h"

#include <chrono>
#include <fstream>
#include <random>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace inferd::observability {
namespace {

using json = nlohmann::json;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

bool AllZero(const SpanId& id) {
  for (uint8_t b : id) {
    if (b != 0) return false;
  }
  return true;
}

json StringAttribute(const std::string& key, const std::string& value) {
  return {{"key", key}, {"value", {{"stringValue", value}}}};
}

}  // namespace

std::string OtlpJson(const std::vector<Trace>& traces, std::string_view service_name) {
  json spans = json::array();
  for (const Trace& t : traces) {
    const std::string trace_id = ToHex(t.trace_id);
    for (const Span& s : t.spans) {
      json attributes = json::array();
      for (const auto& [k, v] : s.attributes) attributes.push_back(StringAttribute(k, v));
      json span = {{"traceId", trace_id},
                   {"spanId", ToHex(s.span_id)},
                   {"name", s.name},
                   {"kind", s.server_kind ? 2 : 1},
                   {"startTimeUnixNano", std::to_string(s.start_unix_ns)},
                   {"endTimeUnixNano", std::to_string(s.end_unix_ns)},
                   {"attributes", attributes},
                   {"status", {{"code", s.error ? 2 : 1}}}};
      if (!AllZero(s.parent_id)) span["parentSpanId"] = ToHex(s.parent_id);
      spans.push_back(std::move(span));
    }
  }
  json doc = {
      {"resourceSpans",
       json::array({{{"resource",
                      {{"attributes", json::array({StringAttribute(
                                          "service.name", std::string(service_name))})}}},
                     {"scopeSpans",
                      json::array({{{"scope", {{"name", "inferd"}}}, {"spans", spans}}})}}})}};
  return doc.dump();
}

Result<std::unique_ptr<Tracer>> Tracer::Create(const Options& options) {
  if (!(options.sample_rate >= 0 && options.sample_rate <= 1)) {
    return InvalidArgument(fmt::format("trace rate {} is not within 0..1", options.sample_rate));
  }
  if (!options.file.empty()) {
    std::ofstream probe(options.file, std::ios::app);
    if (!probe) return InvalidArgument(fmt::format("cannot open trace file '{}'", options.file));
  }
  std::unique_ptr<Tracer> tracer(new Tracer(options));
  if (!options.otlp_endpoint.empty()) {
    constexpr std::string_view kScheme = "http://";
    std::string_view url = options.otlp_endpoint;
    if (url.substr(0, kScheme.size()) != kScheme) {
      return InvalidArgument(fmt::format(
          "trace endpoint '{}' must be an http:// URL (e.g. http://127.0.0.1:4318/v1/traces)",
          url));
    }
    url.remove_prefix(kScheme.size());
    const size_t slash = url.find('/');
    const std::string_view authority = url.substr(0, slash);
    tracer->target_ = slash == std::string_view::npos ? "/v1/traces" : std::string(url.substr(slash));
    const size_t colon = authority.rfind(':');
    if (authority.empty() || colon == 0) {
      return InvalidArgument(fmt::format("trace endpoint '{}' has no host", options.otlp_endpoint));
    }
    tracer->host_ = std::string(authority.substr(0, colon));
    tracer->port_ = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  }
  tracer->writer_ = std::thread([t = tracer.get()] { t->Run(); });
  return tracer;
}

Tracer::Tracer(const Options& options) : options_(options), sample_rate_(options.sample_rate) {}

Tracer::~Tracer() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  if (writer_.joinable()) writer_.join();
}

Status Tracer::SetSampleRate(double rate) {
  if (!(rate >= 0 && rate <= 1)) {
    return InvalidArgument(fmt::format("trace rate {} is not within 0..1", rate));
  }
  sample_rate_.store(rate, std::memory_order_relaxed);
  return Status::Ok();
}

bool Tracer::ShouldSample(const std::optional<TraceParent>& parent) {
  if (parent) return parent->sampled;
  const double rate = sample_rate();
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0, 1)(rng) < rate;
}

void Tracer::Export(Trace trace) {
  {
    MutexLock lock(mu_);
    if (queue_.size() >= options_.max_queued_traces) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(trace));
    ++enqueued_;
  }
  cv_.NotifyOne();
}

void Tracer::Flush() {
  MutexLock lock(mu_);
  const uint64_t target = enqueued_;
  cv_.NotifyOne();
  drained_.Wait(mu_, [&]() NO_THREAD_SAFETY_ANALYSIS { return written_ >= target; });
}

void Tracer::Run() {
  for (;;) {
    std::vector<Trace> batch;
    bool stop = false;
    {
      MutexLock lock(mu_);
      cv_.WaitFor(mu_, std::chrono::milliseconds(options_.flush_interval_ms),
                  [this]() NO_THREAD_SAFETY_ANALYSIS { return stopping_ || queue_.size() >= 256; });
      while (!queue_.empty() && batch.size() < 1024) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      stop = stopping_ && queue_.empty();
    }
    if (!batch.empty()) Write(batch);
    {
      MutexLock lock(mu_);
      written_ += batch.size();
    }
    drained_.NotifyAll();
    if (stop) return;
  }
}

void Tracer::Write(const std::vector<Trace>& batch) {
  const std::string body = OtlpJson(batch, options_.service_name);
  if (!options_.file.empty()) {
    std::ofstream out(options_.file, std::ios::app);
    out << body << '\n';
    if (!out) spdlog::warn("cannot write traces to '{}'", options_.file);
  }
  if (!host_.empty() && !Post(body)) return;
  exported_.fetch_add(batch.size(), std::memory_order_relaxed);
}

bool Tracer::Post(const std::string& body) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  net::ip::tcp::resolver resolver(ioc);
  auto endpoints = resolver.resolve(host_, port_, ec);
  stream.expires_after(std::chrono::seconds(2));
  if (!ec) stream.connect(endpoints, ec);
  bhttp::response<bhttp::string_body> res;
  if (!ec) {
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, target_, 11};
    req.set(bhttp::field::host, host_);
    req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    bhttp::write(stream, req, ec);
  }
  beast::flat_buffer buffer;
  if (!ec) bhttp::read(stream, buffer, res, ec);
  beast::error_code ignored;
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  const bool ok = res.result_int() >= 200 && res.result_int() < 300;
  if (!ok && !post_failing_) {
    spdlog::warn("exporting traces to {} failed: {}", options_.otlp_endpoint,
                 res.result_int() ? fmt::format("HTTP {}", res.result_int()) : ec.message());
  }
  post_failing_ = !ok;
  return ok;
}

}  // namespace inferd::observability
