#include "grpc/channelz_connections.h"

#include <grpc/grpc.h>
#include <grpc/support/alloc.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace inferd::grpc {
namespace {

using nlohmann::json;

// A channelz call's JSON answer; null when gRPC gave none or it does not parse.
json Call(char* text) {
  if (text == nullptr) return nullptr;
  std::unique_ptr<char, void (*)(void*)> owned(text, gpr_free);
  return json::parse(owned.get(), nullptr, /*allow_exceptions=*/false);
}

int64_t IdOf(const json& ref, const char* key) {
  if (!ref.is_object() || !ref.contains(key)) return 0;
  const json& id = ref[key];  // proto3 JSON writes int64 as a string
  if (id.is_string()) return std::stoll(id.get<std::string>());
  return id.is_number_integer() ? id.get<int64_t>() : 0;
}

// Every socket id of every gRPC server in the process, page by page.
std::vector<int64_t> ServerSocketIds() {
  std::vector<int64_t> ids;
  const json servers = Call(grpc_channelz_get_servers(0));
  if (!servers.is_object() || !servers.contains("server")) return ids;
  for (const json& server : servers["server"]) {
    const int64_t server_id = IdOf(server.value("ref", json::object()), "serverId");
    if (server_id == 0) continue;
    int64_t start = 0;
    for (;;) {
      const json page = Call(grpc_channelz_get_server_sockets(server_id, start, 0));
      if (!page.is_object()) break;
      for (const json& ref : page.value("socketRef", json::array())) {
        const int64_t id = IdOf(ref, "socketId");
        if (id == 0) continue;
        ids.push_back(id);
        start = std::max(start, id + 1);
      }
      if (page.value("end", false) || !page.contains("socketRef")) break;
    }
  }
  return ids;
}

}  // namespace

metrics::ConnectionCounts ChannelzConnections::Read() {
  const std::vector<int64_t> ids = ServerSocketIds();
  MutexLock lock(mu_);
  int64_t newest = max_socket_id_;
  for (int64_t id : ids) {
    if (id > max_socket_id_) ++total_;
    newest = std::max(newest, id);
  }
  max_socket_id_ = newest;
  return {static_cast<int64_t>(ids.size()), total_};
}

}  // namespace inferd::grpc
