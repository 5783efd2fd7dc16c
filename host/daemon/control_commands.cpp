#include "daemon/control_commands.h"

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "build_config.h"
#include "daemon/metrics_merge.h"
#include "daemon/metrics_text.h"
#include "patterns/pattern.h"

namespace bentos::daemon {

namespace {

using Json = nlohmann::ordered_json;
using device::Device;
using device::DeviceStats;

const char kCommandList[] = "list, status, stats, metrics, reload, help";
const char kRequestShape[] = R"(a JSON object such as {"command": "list"})";

struct Request {
  std::string command;
  std::optional<std::string> device;  // list, stats: only this device
  std::optional<nlohmann::json> id;   // echoed in the answer
};

Json failure(const std::string& error) { return Json{{"ok", false}, {"error", error}}; }

// At most 80 characters of what a client sent, for an error message.
std::string excerpt(const std::string& text) { return text.size() <= 80 ? text : text.substr(0, 77) + "..."; }

bool is_bare_word(const std::string& line) {
  for (char c : line) {
    if (!((c >= 'a' && c <= 'z') || c == '-' || c == '_')) return false;
  }
  return !line.empty();
}

constexpr int kMaxDepth = 4;

// Reads one request line; false with `error` set when it is not one.
bool parse_request(const std::string& line, Request& out, std::string& error) {
  if (is_bare_word(line)) {
    out.command = line;
    return true;
  }
  if (line.empty() || line[0] != '{') {
    error = "bad request '" + excerpt(line) + "': expected " + kRequestShape;
    return false;
  }
  // A request is one flat object. Deeper nesting is refused before parsing:
  // copying or printing a deeply nested value recurses once per level
  // (a 64 KiB line of '[' would overflow the stack).
  int depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : line) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if ((c == '{' || c == '[') && ++depth > kMaxDepth) {
      error = "bad request: nested deeper than " + std::to_string(kMaxDepth) + " levels; expected " + kRequestShape;
      return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    error = std::string("bad JSON: ") + e.what();
    return false;
  }
  if (!j.is_object()) {
    error = std::string("bad request: expected ") + kRequestShape;
    return false;
  }
  for (const auto& [key, value] : j.items()) {
    if (key == "command" && value.is_string()) {
      out.command = value.get<std::string>();
    } else if (key == "device" && value.is_string()) {
      out.device = value.get<std::string>();
    } else if (key == "id" && (value.is_string() || value.is_number() || value.is_null())) {
      out.id = value;
    } else if (key == "id") {
      error = "bad request: 'id' must be a string, a number or null";
      return false;
    } else if (key == "command" || key == "device") {
      error = "bad request: '" + key + "' must be a string";
      return false;
    } else {
      error = "bad request: unknown key '" + excerpt(key) + "' (a request has command, and maybe device and id)";
      return false;
    }
  }
  if (out.command.empty()) {
    error = std::string("bad request: no \"command\"; expected ") + kRequestShape;
    return false;
  }
  return true;
}

// What bentosd attaches for this device: the manifest's device_path, or
// /dev/bentos/<name> (the layout of config/devices.json) when it has none.
std::string device_path(const Device& d) {
  return d.spec().device_path.empty() ? "/dev/bentos/" + d.name() : d.spec().device_path;
}

Json describe(const Device& d) {
  return Json{
      {"name", d.name()},
      {"pattern", patterns::pattern_name(d.library().pattern())},
      {"driver", d.library().name()},
      {"driver_version", d.library().version()},
      {"plugin", d.library().path()},
      {"socket", d.endpoint_uri()},
      {"device_path", device_path(d)},
      {"isolation", "in-process"},
  };
}

// Nanoseconds as microseconds with one decimal.
double micros(uint64_t ns) { return std::round(static_cast<double>(ns) / 100.0) / 10.0; }

Json stats_of(const Device& d) {
  const DeviceStats& s = d.stats();
  Json requests = Json::object();
  Json latency = Json::object();
  for (size_t op = 0; op < DeviceStats::kOps; ++op) {
    const auto kind = static_cast<wire::OpKind>(op);
    requests[wire::op_name(kind)] = s.requests(kind);
    const device::LatencyHistogram& h = s.latency(kind);
    if (h.count() == 0) continue;
    latency[wire::op_name(kind)] = Json{{"count", h.count()},
                                       {"p50", micros(h.percentile(0.50))},
                                       {"p99", micros(h.percentile(0.99))},
                                       {"max", micros(h.max())}};
  }
  Json errors = Json::array();
  for (size_t err = 0; err < DeviceStats::kErrnos; ++err) {
    if (s.errors(err) == 0) continue;
    errors.push_back(Json{{"errno", err}, {"name", errno_name(err)}, {"count", s.errors(err)}});
  }
  return Json{
      {"name", d.name()},
      {"isolation", "in-process"},
      {"connections", d.connection_count()},
      {"sessions", d.session_count()},
      {"connections_accepted", s.connections_accepted},
      {"sessions_opened", s.sessions_opened},
      {"requests_total", s.requests_total()},
      {"requests", std::move(requests)},
      {"replies", s.replies()},
      {"errors", std::move(errors)},
      {"bytes_in", s.bytes_in},
      {"bytes_out", s.bytes_out},
      {"malformed_frames", s.malformed_frames},
      {"plugin_exceptions", d.plugin_exceptions()},
      {"latency_us", std::move(latency)},
      {"limits",
       Json{
           {"frames_too_big", s.limits.frames_too_big},
           {"requests_too_big", s.limits.requests_too_big},
           {"sessions_refused", s.limits.sessions_refused},
           {"request_timeouts", d.timeouts()},
           {"buffer_full", s.buffer_full->load(std::memory_order_relaxed)},
           {"dropped_events", d.dropped_events()},
           {"connections_over_max", s.limits.connections_over_max},
           {"peers_refused", s.limits.peers_refused},
       }},
  };
}

// `metrics`: the Prometheus text, in one JSON string (the socket speaks
// JSON lines); bentosctl metrics prints it as it is.
Json metrics_answer(Host& host, std::chrono::steady_clock::duration uptime) {
  HostMetrics m;
  m.version = BENTOS_VERSION;
  m.uptime_seconds = std::chrono::duration<double>(uptime).count();
  m.max_connections = host.context().max_connections();
  for (const Device* d : host.devices()) {
    m.devices.push_back(DeviceMetrics{d->name(), &d->stats(), d->connection_count(), d->session_count(),
                                      d->timeouts(), d->dropped_events(), d->plugin_exceptions()});
  }
  m.device_count = host.device_count();
  return Json{{"ok", true}, {"content_type", kMetricsContentType}, {"text", metrics_text(m)}};
}


Json reload_answer(const ReloadOutcome& r) {
  Json out{{"ok", r.errors.empty() && !r.rejected}};
  if (!r.errors.empty()) {
    std::string error = r.rejected ? "the manifests have errors; nothing changed: "
                                   : std::to_string(r.errors.size()) + " device(s) could not start: ";
    error += r.errors.front();
    if (r.errors.size() > 1) error += " (and " + std::to_string(r.errors.size() - 1) + " more, see errors)";
    out["error"] = error;
  }
  out["added"] = r.added;
  out["removed"] = r.removed;
  out["restarted"] = r.restarted;
  out["unchanged"] = r.unchanged;
  out["errors"] = r.errors;
  // Said outright, so a tool need not read it from the error's wording:
  // the devices all still serve their old configuration.
  out["rejected"] = r.rejected;
  return out;
}

Json help_answer() {
  return Json{
      {"ok", true},
      {"request", R"({"command": NAME}, one a line; "device": NAME narrows list and stats; "id" is echoed)"},
      {"commands",
       Json{
           {"list", "devices: name, pattern, driver and version, plugin file, socket, device_path"},
           {"status", "host version, pid, uptime, device, connection and session counts"},
           {"stats", "per device: requests by op, errors by errno, bytes, latency p50/p99, limit counters"},
           {"metrics", "every counter of status and stats, latency histograms: Prometheus text format 0.0.4, "
                       "in \"text\""},
           {"reload", "re-read the manifests and apply them; answered when done; a configuration with errors "
                      "changes nothing"},
           {"help", "this list"},
       }},
  };
}

}  // namespace

ControlCommands::ControlCommands(Host& host, ReloadFn reload) : host_(host), reload_(std::move(reload)) {}

std::string ControlCommands::error_answer(const std::string& message) { return failure(message).dump() + "\n"; }

namespace {

// One answer line. Names and messages can carry bytes a client sent: never
// let invalid UTF-8 make dump() throw.
std::string answer_line(Json out, const std::optional<nlohmann::json>& id) {
  if (id) out["id"] = *id;
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// list, stats and status: what this process serves plus what each isolated
// device's child says (asked over its channel, in the same protocol). The
// answer waits for every child; one that is down or dies meanwhile is
// described from what the parent knows.
struct Gathering {
  std::string command;
  std::optional<std::string> device;
  std::optional<nlohmann::json> id;
  ControlCommands::Reply reply;
  Json devices = Json::array();  // list, stats: in the host's order
  std::vector<Json> children;    // status: the isolated devices' rows
  size_t connections = 0, sessions = 0;
  Json status;
  size_t waiting = 1;  // one per child asked, plus one until all are asked

  void done_one() {
    if (--waiting > 0) return;
    Json out;
    if (command == "status") {
      out = std::move(status);
      out["connections"] = connections;
      out["sessions"] = sessions;
      out["isolated"] = children;
    } else if (device && devices.empty()) {
      out = failure("no device '" + excerpt(*device) + "'");
    } else {
      out = Json{{"ok", true}, {"devices", std::move(devices)}};
    }
    reply(answer_line(std::move(out), id));
  }
};

// What the parent knows of an isolated device, added to every row of it.
Json isolation_fields(const isolation::IsolatedDevice& d) {
  Json out{{"isolation", "process"}, {"state", d.state()}, {"restarts", d.restarts()}};
  out["pid"] = d.pid() > 0 ? Json(d.pid()) : Json(nullptr);
  out["last_exit"] = d.last_exit().empty() ? Json(nullptr) : Json(d.last_exit());
  return out;
}

void gather_answer(Host& host, const std::string& command, const std::optional<std::string>& device,
                   const std::optional<nlohmann::json>& id, std::chrono::steady_clock::time_point started,
                   ControlCommands::Reply reply) {
  auto g = std::make_shared<Gathering>();
  g->command = command;
  g->device = device;
  g->id = id;
  g->reply = std::move(reply);
  const auto devices = host.devices();
  for (Device* d : devices) {
    g->connections += d->connection_count();
    g->sessions += d->session_count();
    if (command == "status" || (device && d->name() != *device)) continue;
    g->devices.push_back(command == "list" ? describe(*d) : stats_of(*d));
  }
  if (command == "status") {
    const auto uptime = std::chrono::steady_clock::now() - started;
    g->status = Json{{"ok", true},
                     {"version", BENTOS_VERSION},
                     {"pid", ::getpid()},
                     {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(uptime).count()},
                     {"devices", host.device_count()},
                     {"connections", 0},
                     {"sessions", 0},
                     {"max_connections", host.context().max_connections()}};
  }
  for (isolation::IsolatedDevice* d : host.isolated_devices()) {
    if (command != "status" && device && d->name() != *device) continue;
    // Taken now: the device may be gone (a reload) when the child answers.
    Json known = isolation_fields(*d);
    known["name"] = d->name();
    Json fallback{{"name", d->name()},
                  {"pattern", nullptr},
                  {"plugin", d->plugin_path()},
                  {"socket", d->spec().socket},
                  {"device_path", d->spec().device_path.empty() ? "/dev/bentos/" + d->name() : d->spec().device_path}};
    const size_t slot = g->devices.size();
    if (command != "status") g->devices.push_back(nullptr);
    ++g->waiting;
    const std::string ask = Json{{"command", command == "status" ? "stats" : command}}.dump();
    d->ask(ask, [g, slot, known, fallback](const std::string* line) {
      Json row = fallback;
      Json answer = line ? Json::parse(*line, nullptr, false) : Json();
      const bool answered = answer.is_object() && answer.value("ok", false) && answer.contains("devices") &&
                            answer["devices"].is_array() && answer["devices"].size() == 1;
      if (answered) row = answer["devices"][0];
      for (const auto& [key, value] : known.items()) row[key] = value;
      if (g->command == "status") {
        if (answered) {
          g->connections += row.value("connections", size_t{0});
          g->sessions += row.value("sessions", size_t{0});
        }
        Json brief;
        for (const char* key : {"name", "state", "pid", "restarts", "last_exit", "connections", "sessions"})
          if (row.contains(key)) brief[key] = row[key];
        g->children.push_back(std::move(brief));
      } else {
        g->devices[slot] = std::move(row);
      }
      g->done_one();
    });
  }
  g->done_one();
}

// `metrics` with isolated devices: each child's exposition merged into the
// host's (daemon/metrics_merge.h), answered once every child answered or
// failed.
void metrics_with_children(Host& host, std::chrono::steady_clock::duration uptime,
                           const std::optional<nlohmann::json>& id, ControlCommands::Reply reply) {
  struct Pending {
    Json answer;
    std::vector<ChildMetrics> children;
    size_t waiting = 1;
    std::optional<nlohmann::json> id;
    ControlCommands::Reply reply;
    void done_one() {
      if (--waiting > 0) return;
      answer["text"] = merge_metrics(answer["text"].get<std::string>(), children);
      reply(answer_line(std::move(answer), id));
    }
  };
  auto p = std::make_shared<Pending>();
  p->answer = metrics_answer(host, uptime);
  p->id = id;
  p->reply = std::move(reply);
  for (isolation::IsolatedDevice* d : host.isolated_devices()) {
    p->children.push_back(ChildMetrics{d->name(), "", d->state() == "running", d->restarts()});
    const size_t slot = p->children.size() - 1;
    ++p->waiting;
    d->ask(R"({"command":"metrics"})", [p, slot](const std::string* line) {
      const Json answer = line ? Json::parse(*line, nullptr, false) : Json();
      if (answer.is_object() && answer.contains("text") && answer["text"].is_string())
        p->children[slot].text = answer["text"].get<std::string>();
      p->done_one();
    });
  }
  p->done_one();
}

}  // namespace

void ControlCommands::answer(const std::string& line, Reply reply) {
  Request req;
  std::string error;
  Json out;
  if (!parse_request(line, req, error)) {
    out = failure(error);
  } else if (req.device && req.command != "list" && req.command != "stats") {
    out = failure("'device' applies to list and stats only");
  } else if (req.command == "list" || req.command == "stats" || req.command == "status") {
    gather_answer(host_, req.command, req.device, req.id, started_, std::move(reply));
    return;
  } else if (req.command == "metrics" && !host_.isolated_devices().empty()) {
    metrics_with_children(host_, std::chrono::steady_clock::now() - started_, req.id, std::move(reply));
    return;
  } else if (req.command == "metrics") {
    out = metrics_answer(host_, std::chrono::steady_clock::now() - started_);
  } else if (req.command == "reload") {
    if (!reload_) {
      out = failure("reload is not available");
    } else {
      try {
        // Answered when it is done: the plugins' create() and destroy() run
        // off the loop, which goes on serving meanwhile.
        reload_([reply, id = req.id](const ReloadOutcome& r) { reply(answer_line(reload_answer(r), id)); });
        return;
      } catch (const std::exception& e) {  // e.g. a filesystem error while reading the manifests
        out = failure(std::string("reload failed: ") + e.what());
      }
    }
  } else if (req.command == "help") {
    out = help_answer();
  } else {
    out = failure("unknown command '" + excerpt(req.command) + "'; commands: " + kCommandList);
  }
  reply(answer_line(std::move(out), req.id));
}

}  // namespace bentos::daemon
