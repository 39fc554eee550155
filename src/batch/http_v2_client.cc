#include "batch/http_v2_client.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <boost/asio/connect.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "batch/in_process_engine.h"
#include "protocol/json_text.h"
#include "protocol/tensor_json_data.h"

namespace inferd::batch {
namespace {

namespace http = boost::beast::http;
namespace dom = simdjson::dom;
using boost::asio::ip::tcp;

constexpr std::string_view kHeaderLength = "Inference-Header-Content-Length";

void AppendParameter(std::string& out, const std::string& key, const ParameterValue& value) {
  protocol::AppendJsonString(out, key);
  out += ':';
  if (const auto* b = std::get_if<bool>(&value)) {
    out += *b ? "true" : "false";
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    out += std::to_string(*i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    protocol::AppendJsonDouble(out, *d);
  } else {
    protocol::AppendJsonString(out, std::get<std::string>(value));
  }
}

}  // namespace

std::pair<std::string, size_t> EncodeBinaryInferRequest(const InferenceRequest& request) {
  std::string json = "{";
  if (!request.id.empty()) {
    json += "\"id\":";
    protocol::AppendJsonString(json, request.id);
    json += ',';
  }
  json += "\"parameters\":{\"binary_data_output\":true},\"inputs\":[";
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    const Tensor& input = request.inputs[i];
    if (i != 0) json += ',';
    json += "{\"name\":";
    protocol::AppendJsonString(json, input.name());
    json += fmt::format(
        ",\"datatype\":\"{}\",\"shape\":[{}],\"parameters\":"
        "{{\"binary_data_size\":{}}}}}",
        DataTypeName(input.dtype()), fmt::join(input.shape(), ","), input.byte_size());
  }
  json += ']';
  if (!request.outputs.empty()) {
    json += ",\"outputs\":[";
    for (size_t i = 0; i < request.outputs.size(); ++i) {
      if (i != 0) json += ',';
      json += "{\"name\":";
      protocol::AppendJsonString(json, request.outputs[i].name);
      json += ",\"parameters\":{\"binary_data\":true";
      for (const auto& [key, value] : request.outputs[i].parameters) {
        if (key == "binary_data") continue;
        json += ',';
        AppendParameter(json, key, value);
      }
      json += "}}";
    }
    json += ']';
  }
  json += '}';
  const size_t header_length = json.size();
  for (const Tensor& input : request.inputs) {
    json.append(reinterpret_cast<const char*>(input.data().data()), input.byte_size());
  }
  return {std::move(json), header_length};
}

Result<InferenceResponse> DecodeInferResponseBody(std::string body,
                                                  std::optional<size_t> header_length) {
  const size_t json_size = header_length.value_or(body.size());
  if (json_size > body.size()) return Internal("the answer's JSON header is cut short");
  dom::parser parser;
  dom::element root;
  if (auto error = parser.parse(body.data(), json_size).get(root)) {
    return Internal(fmt::format("the answer is not JSON: {}", simdjson::error_message(error)));
  }
  InferenceResponse response;
  dom::array outputs;
  if (root["outputs"].get_array().get(outputs) != simdjson::SUCCESS) {
    return Internal("the answer has no outputs");
  }
  auto shared = std::make_shared<const std::string>(std::move(body));
  size_t offset = json_size;
  for (dom::element output : outputs) {
    std::string_view name, datatype;
    dom::array shape;
    if (output["name"].get_string().get(name) != simdjson::SUCCESS ||
        output["datatype"].get_string().get(datatype) != simdjson::SUCCESS ||
        output["shape"].get_array().get(shape) != simdjson::SUCCESS) {
      return Internal("an output of the answer lacks name, datatype or shape");
    }
    Shape dims;
    for (dom::element dim : shape) dims.push_back(dim.get_int64().value_unsafe());
    Tensor tensor(std::string(name), DataTypeFromName(datatype), std::move(dims));
    uint64_t size = 0;
    if (output["parameters"]["binary_data_size"].get_uint64().get(size) == simdjson::SUCCESS) {
      if (offset + size > shared->size()) return Internal("the answer's binary data is cut short");
      tensor.SetData(std::span<const std::byte>(
                         reinterpret_cast<const std::byte*>(shared->data()) + offset, size),
                     shared);
      offset += size;
    } else {
      dom::element data;
      if (output["data"].get(data) != simdjson::SUCCESS) return Internal("an output has no data");
      RETURN_IF_ERROR(protocol::DecodeTensorJsonData(data, tensor));
    }
    response.outputs.push_back(std::move(tensor));
  }
  return response;
}

Result<std::unique_ptr<HttpV2Client>> HttpV2Client::Create(const std::string& url) {
  std::string rest = url;
  if (rest.starts_with("http://")) rest = rest.substr(7);
  if (rest.starts_with("https://")) {
    return InvalidArgument(fmt::format("--url '{}': predict speaks plain HTTP", url));
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
  std::string port = colon == std::string::npos ? "8000" : rest.substr(colon + 1);
  if (host.empty() || port.empty() || rest.find('/') != std::string::npos) {
    return InvalidArgument(fmt::format("--url '{}': want http://host:port", url));
  }
  return std::unique_ptr<HttpV2Client>(new HttpV2Client(url, host, port));
}

Status HttpV2Client::Connect() {
  boost::system::error_code ec;
  socket_.close(ec);
  tcp::resolver resolver(io_);
  auto endpoints = resolver.resolve(host_, port_, ec);
  if (!ec) boost::asio::connect(socket_, endpoints, ec);
  if (ec) return Unavailable(fmt::format("cannot connect to {}: {}", url_, ec.message()));
  socket_.set_option(tcp::no_delay(true), ec);
  buffer_.clear();
  connected_ = true;
  return Status::Ok();
}

Result<std::pair<int, std::string>> HttpV2Client::RoundTrip(
    const std::string& method, const std::string& path, std::string body,
    std::optional<size_t> header_length, std::optional<size_t>* answer_header_length) {
  http::request<http::string_body> request(http::string_to_verb(method), path, 11);
  request.set(http::field::host, host_);
  request.keep_alive(true);
  if (header_length) {
    request.set(kHeaderLength, std::to_string(*header_length));
    request.set(http::field::content_type, "application/octet-stream");
  }
  request.body() = std::move(body);
  request.prepare_payload();
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool fresh = !connected_;
    if (!connected_) RETURN_IF_ERROR(Connect());
    boost::system::error_code ec;
    http::write(socket_, request, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    if (!ec) http::read(socket_, buffer_, parser, ec);
    if (ec) {
      connected_ = false;
      if (fresh) return Unavailable(fmt::format("{}: {}", url_, ec.message()));
      continue;  // the server had closed the kept-alive connection: once more, anew
    }
    auto response = parser.release();
    if (!response.keep_alive()) connected_ = false;
    if (answer_header_length != nullptr) {
      answer_header_length->reset();
      auto it = response.find(kHeaderLength);
      if (it != response.end()) *answer_header_length = std::stoull(std::string(it->value()));
    }
    return std::make_pair(static_cast<int>(response.result_int()), std::move(response.body()));
  }
  return Unavailable(fmt::format("{}: the connection closed", url_));
}

Result<std::string> HttpV2Client::Get(const std::string& path) {
  ASSIGN_OR_RETURN(auto answer, RoundTrip("GET", path, "", std::nullopt, nullptr));
  if (answer.first == 404) return NotFound(fmt::format("{}{}: not found", url_, path));
  if (answer.first != 200) {
    return Unavailable(fmt::format("{}{}: HTTP {}", url_, path, answer.first));
  }
  return std::move(answer.second);
}

Result<ModelSpec> HttpV2Client::Describe(const std::string& model) {
  ASSIGN_OR_RETURN(std::string metadata_json, Get(fmt::format("/v2/models/{}", model)));
  ASSIGN_OR_RETURN(std::string config_json, Get(fmt::format("/v2/models/{}/config", model)));
  dom::parser parser;
  dom::element root;
  if (parser.parse(metadata_json).get(root) != simdjson::SUCCESS) {
    return Internal(fmt::format("{}: model metadata is not JSON", url_));
  }
  server::ModelMetadata metadata;
  metadata.name = model;
  for (const char* side : {"inputs", "outputs"}) {
    dom::array tensors;
    if (root[side].get_array().get(tensors) != simdjson::SUCCESS) continue;
    for (dom::element t : tensors) {
      std::string_view name, datatype;
      dom::array shape;
      if (t["name"].get_string().get(name) != simdjson::SUCCESS ||
          t["datatype"].get_string().get(datatype) != simdjson::SUCCESS ||
          t["shape"].get_array().get(shape) != simdjson::SUCCESS) {
        return Internal(fmt::format("{}: a tensor of the model metadata lacks a field", url_));
      }
      server::TensorMetadata m{std::string(name), DataTypeFromName(datatype), {}};
      for (dom::element d : shape) m.shape.push_back(d.get_int64().value_unsafe());
      (std::string_view(side) == "inputs" ? metadata.inputs : metadata.outputs)
          .push_back(std::move(m));
    }
  }
  dom::parser config_parser;
  int64_t max_batch_size = 0;
  dom::element config;
  if (config_parser.parse(config_json).get(config) != simdjson::SUCCESS ||
      config["max_batch_size"].get_int64().get(max_batch_size) != simdjson::SUCCESS) {
    max_batch_size = 0;
  }
  return SpecFromMetadata(metadata, max_batch_size);
}

Result<InferenceResponse> HttpV2Client::Infer(const InferenceRequest& request) {
  auto [body, header_length] = EncodeBinaryInferRequest(request);
  std::optional<size_t> answer_header_length;
  ASSIGN_OR_RETURN(auto answer,
                   RoundTrip("POST", fmt::format("/v2/models/{}/infer", request.model_name),
                             std::move(body), header_length, &answer_header_length));
  if (answer.first == 200) {
    return DecodeInferResponseBody(std::move(answer.second), answer_header_length);
  }
  std::string message = answer.second;
  dom::parser parser;
  std::string_view error;
  if (parser.parse(answer.second).get_object()["error"].get_string().get(error) ==
      simdjson::SUCCESS) {
    message = std::string(error);
  }
  message = fmt::format("{} answered HTTP {}: {}", url_, answer.first, message);
  if (answer.first == 400) return InvalidArgument(message);
  if (answer.first == 404) return NotFound(message);
  return Unavailable(message);
}

}  // namespace inferd::batch
