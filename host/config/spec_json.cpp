#include "config/spec_json.h"

#include <nlohmann/json.hpp>

namespace bentos::config {

namespace {

using Json = nlohmann::json;

Json limits_json(const Limits& l) {
  return Json{{"max_frame_bytes", l.max_frame_bytes},       {"max_request_bytes", l.max_request_bytes},
              {"max_buffered_bytes", l.max_buffered_bytes}, {"max_events", l.max_events},
              {"max_sessions", l.max_sessions},             {"request_timeout_ms", l.request_timeout_ms}};
}

Json isolation_json(const Isolation& i) {
  Json out{{"mode", static_cast<int>(i.mode)}, {"user", i.user},
           {"group", i.group},                 {"memory_bytes", i.memory_bytes},
           {"open_files", i.open_files},       {"cpu_seconds", i.cpu_seconds}};
  out["watchdog_ms"] = i.watchdog_ms ? Json(*i.watchdog_ms) : Json(nullptr);
  return out;
}

}  // namespace

std::string spec_to_json(const DeviceSpec& d) {
  Json out{{"name", d.name},
           {"plugin", d.plugin},
           {"socket", d.socket},
           {"device_path", d.device_path},
           {"config_json", d.config_json},
           {"allowed_uids", d.allowed_uids},
           {"allowed_gids", d.allowed_gids},
           {"read_when_empty", static_cast<int>(d.read_when_empty)},
           {"limits", limits_json(d.limits)},
           {"threads", d.threads},
           {"executor", d.executor},
           {"isolation", isolation_json(d.isolation)},
           {"source_file", d.source_file}};
  out["socket_mode"] = d.socket_mode ? Json(*d.socket_mode) : Json(nullptr);
  out["socket_group"] = d.socket_group ? Json(*d.socket_group) : Json(nullptr);
  return out.dump();
}

bool spec_from_json(const std::string& text, DeviceSpec& d, std::string& error) {
  try {
    const Json j = Json::parse(text);
    d.name = j.at("name").get<std::string>();
    d.plugin = j.at("plugin").get<std::string>();
    d.socket = j.at("socket").get<std::string>();
    d.device_path = j.at("device_path").get<std::string>();
    d.config_json = j.at("config_json").get<std::string>();
    if (!j.at("socket_mode").is_null()) d.socket_mode = j.at("socket_mode").get<uint32_t>();
    if (!j.at("socket_group").is_null()) d.socket_group = j.at("socket_group").get<std::string>();
    d.allowed_uids = j.at("allowed_uids").get<std::vector<uint32_t>>();
    d.allowed_gids = j.at("allowed_gids").get<std::vector<uint32_t>>();
    d.read_when_empty = static_cast<ReadWhenEmpty>(j.at("read_when_empty").get<int>());
    const Json& l = j.at("limits");
    d.limits.max_frame_bytes = l.at("max_frame_bytes").get<uint64_t>();
    d.limits.max_request_bytes = l.at("max_request_bytes").get<uint64_t>();
    d.limits.max_buffered_bytes = l.at("max_buffered_bytes").get<uint64_t>();
    d.limits.max_events = l.at("max_events").get<uint64_t>();
    d.limits.max_sessions = l.at("max_sessions").get<uint64_t>();
    d.limits.request_timeout_ms = l.at("request_timeout_ms").get<uint64_t>();
    d.threads = j.at("threads").get<uint32_t>();
    d.executor = j.at("executor").get<std::string>();
    const Json& i = j.at("isolation");
    d.isolation.mode = static_cast<IsolationMode>(i.at("mode").get<int>());
    d.isolation.user = i.at("user").get<std::string>();
    d.isolation.group = i.at("group").get<std::string>();
    d.isolation.memory_bytes = i.at("memory_bytes").get<uint64_t>();
    d.isolation.open_files = i.at("open_files").get<uint64_t>();
    d.isolation.cpu_seconds = i.at("cpu_seconds").get<uint64_t>();
    if (!i.at("watchdog_ms").is_null()) d.isolation.watchdog_ms = i.at("watchdog_ms").get<uint64_t>();
    d.source_file = j.at("source_file").get<std::string>();
    return true;
  } catch (const Json::exception& e) {
    error = std::string("not a device specification: ") + e.what();
    return false;
  }
}

}  // namespace bentos::config
