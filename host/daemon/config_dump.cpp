#include "daemon/config_dump.h"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace bentos::daemon {

namespace {

using Json = nlohmann::ordered_json;

std::string octal(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0%o", mode);
  return buf;
}

// What an empty read does on this device: the manifest's choice, else
// the pattern's default (P1 eof, P3 block); other patterns never ask.
const char* read_when_empty(config::ReadWhenEmpty chosen, const patterns::Pattern* pattern) {
  if (chosen == config::ReadWhenEmpty::eof) return "eof";
  if (chosen == config::ReadWhenEmpty::block) return "block";
  if (!pattern) return "pattern default";
  if (*pattern == patterns::Pattern::stream) return "eof";
  if (*pattern == patterns::Pattern::event_stream) return "block";
  return nullptr;
}

Json device_json(const Host::DeviceConfig& d, const patterns::Pattern* pattern) {
  const config::DeviceSpec& s = d.spec;
  Json out;
  out["name"] = s.name;
  out["plugin"] = d.plugin_path;
  if (pattern) out["pattern"] = patterns::pattern_name(*pattern);
  out["socket"] = s.socket;
  if (!s.device_path.empty()) out["device_path"] = s.device_path;
  if (s.socket_mode) out["socket_mode"] = octal(*s.socket_mode);
  if (s.socket_group) out["socket_group"] = *s.socket_group;
  out["allowed_uids"] = s.allowed_uids;
  out["allowed_gids"] = s.allowed_gids;
  if (const char* empty = read_when_empty(s.read_when_empty, pattern)) out["read_when_empty"] = empty;
  out["threads"] = s.threads;
  out["executor"] = s.executor;
  out["isolation"] = config::isolation_name(s.isolation.mode);
  if (s.isolation.mode == config::IsolationMode::process) {
    out["watchdog_ms"] = s.isolation.watchdog();
    if (!s.isolation.user.empty()) out["user"] = s.isolation.user;
    if (!s.isolation.group.empty()) out["group"] = s.isolation.group;
  }
  out["limits"] = Json{
      {"max_frame_bytes", s.limits.max_frame_bytes},
      {"max_request_bytes", s.limits.max_request_bytes},
      {"max_buffered_bytes", s.limits.max_buffered_bytes},
      {"max_events", s.limits.max_events},
      {"max_sessions", s.limits.max_sessions},
      {"request_timeout_ms", s.limits.request_timeout_ms},
  };
  if (s.isolation.memory_bytes) out["limits"]["memory_bytes"] = s.isolation.memory_bytes;
  if (s.isolation.open_files) out["limits"]["open_files"] = s.isolation.open_files;
  if (s.isolation.cpu_seconds) out["limits"]["cpu_seconds"] = s.isolation.cpu_seconds;
  out["config"] = Json::parse(s.config_json, nullptr, false);
  out["from"] = s.source_file;
  return out;
}

}  // namespace

std::string dump_effective_config(const config::Options& options, const config::HostSettings& host,
                                  const std::vector<Host::DeviceConfig>& devices,
                                  const std::map<std::string, patterns::Pattern>& patterns) {
  Json doc;
  doc["host"] = Json{
      {"max_connections", host.max_connections},
      {"lifecycle_timeout_ms", host.lifecycle_timeout_ms},
  };
  // The settings that are not in any manifest.
  doc["command_line"] = Json{
      {"config", options.config_paths},
      {"plugin_dirs", options.plugin_dirs},
      {"socket_dir", options.socket_dir},
      {"control_socket", options.control_socket.empty() ? "none" : options.control_socket},
      {"allow_insecure_plugins", options.allow_insecure_plugins},
  };
  Json list = Json::array();
  for (const auto& d : devices) {
    const auto found = patterns.find(d.spec.name);
    list.push_back(device_json(d, found == patterns.end() ? nullptr : &found->second));
  }
  doc["devices"] = std::move(list);
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace bentos::daemon
