// The host side of the harness: one Device on a loop this file owns, the
// host's log captured, plugin bugs picked out of it.
//
// Thread: host_state belongs to the test's thread, which is the loop
// thread; the log sink runs on any thread (plugin threads log), and takes
// log_capture's and host_state's log mutexes.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "config/manifest.h"
#include "daemon/threading_check.h"
#include "harness_state.h"

namespace bentos::testing::detail {

namespace {

// Process-wide: the log sink feeds every live host (tests may hold more
// than one). Any thread may log.
struct log_capture {
  std::mutex mutex;
  std::vector<host_state*> hosts;
};
log_capture& capture() {
  static log_capture c;
  return c;
}

// A line is a plugin bug when the host says so: its messages about a
// plugin's misuse start "plugin" (where "plugin", or "plugin <hook> ..."
// after the device's name), and an exception the plugin threw at the host
// is an error line.
bool is_plugin_error(log::Level level, const std::string& line, const std::string& device) {
  if (level > log::Level::warn) return false;
  const auto colon = line.find(": ");
  if (colon == std::string::npos) return false;
  const std::string rest = line.substr(colon + 2);
  if (rest.rfind("plugin: ", 0) == 0) return true;
  const std::string own = device + ": ";
  if (rest.rfind(own, 0) != 0) return false;
  const std::string message = rest.substr(own.size());
  // A slow callback is a warning about the machine as much as the driver
  // (a loaded CI host): logged, not a failure.
  if (message.rfind("plugin callback ", 0) == 0 && message.find(" took ") != std::string::npos) return false;
  return level == log::Level::error || message.rfind("plugin ", 0) == 0 ||
         message.rfind("a request was not answered", 0) == 0;
}

// The process-wide log sink, installed once and never removed: replacing
// it later would take log.cpp's lock while a plugin thread may be inside
// the sink waiting for ours. With no host alive, lines go to stderr.
void install_log_sink() {
  static std::once_flag once;
  std::call_once(once, [] {
    log::set_sink([](log::Level level, const std::string& line) {
      auto& cap = capture();
      std::lock_guard l(cap.mutex);
      if (cap.hosts.empty()) std::fprintf(stderr, "%s\n", line.c_str());
      for (host_state* h : cap.hosts) h->on_log(level, line);
    });
  });
}

}  // namespace

void host_state::on_log(log::Level level, const std::string& line) {
  std::lock_guard lock(log_mutex);
  logs.push_back(line);
  if (is_plugin_error(level, line, name)) errors.push_back(line);
}

void host_state::throw_plugin_errors() {
  std::string text;
  {
    std::lock_guard lock(log_mutex);
    if (errors.empty()) return;
    for (const auto& e : errors) text += "\n  " + e;
    errors.clear();
  }
  throw failure("the host saw a bug in the driver under test:" + text);
}

bool host_state::exchange_all() {
  bool moved = false;
  for (auto& weak : connections)
    if (auto c = weak.lock()) moved = c->exchange() || moved;
  return moved;
}

bool host_state::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    exchange_all();
    if (done()) return true;
    turn();
    const bool moved = exchange_all();
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // Nothing ready on the loop: an answer may come from another thread.
    if (!moved) usleep(100);
  }
}

void host_state::settle() {
  for (int quiet = 0, turns = 0; quiet < 3 && turns < 10000; ++turns) {
    turn();
    quiet = exchange_all() ? 0 : quiet + 1;
  }
}

std::unique_ptr<host_state> new_state() {
  auto s = std::make_unique<host_state>();
  if (uv_loop_init(&s->loop) != 0) throw failure("bentos::testing: uv_loop_init failed");
  s->context = std::make_unique<loop::HostContext>(&s->loop, /*max_connections=*/1024);
  install_log_sink();
  auto& c = capture();
  std::lock_guard lock(c.mutex);
  c.hosts.push_back(s.get());
  return s;
}

// Built the way Host::add_device builds a device, with the instance's
// timers moved to the manual clock before its create() can start any.
void start_device(host_state& s, std::shared_ptr<plugin::PluginLibrary> library, const options& opts) {
  nlohmann::json device = nlohmann::json::parse(opts.device, nullptr, false);
  if (!device.is_object()) throw failure("options.device is not a JSON object: " + opts.device);
  nlohmann::json config = nlohmann::json::parse(opts.config, nullptr, false);
  if (config.is_discarded()) throw failure("options.config is not JSON: " + opts.config);
  device["name"] = opts.name;
  device["plugin"] = library->path();
  device["socket"] = "unix:///nonexistent/bentos-testing.sock";  // never bound
  device["config"] = config;
  const nlohmann::json manifest = {{"devices", nlohmann::json::array({device})}};
  const auto parsed = config::parse_manifest(manifest.dump(), "bentos::testing options", "/");
  if (!parsed.errors.empty() || parsed.devices.size() != 1) {
    std::string why;
    for (const auto& e : parsed.errors) why += e + "; ";
    throw failure("bentos::testing: the device options are not a valid manifest device: " + why);
  }
  const config::DeviceSpec& spec = parsed.devices.front();
  std::string refused;
  if (!daemon::threading_allowed(spec, library->path(), library->descriptor(), refused))
    throw failure("bentos::testing: " + refused);  // as the daemon refuses it at --check and load
  s.name = spec.name;
  s.library = library;
  s.device = std::make_unique<device::Device>(*s.context, spec, library);
  auto instance =
      plugin::PluginInstance::prepare(library, spec.name, spec.config_json, &s.loop, s.context->inbox());
  instance->host()->timers->use_clock(&s.clock);
  std::string error;
  if (!instance->run_create(error) || !s.device->start_with(std::move(instance), /*listen=*/false, error))
    throw failure("bentos::testing: the driver did not start: " + error);
  s.turn();  // what create() posted
}

std::vector<std::string> shut_down(host_state& s) {
  for (auto& weak : s.connections)
    if (auto c = weak.lock(); c && c->fd >= 0) {
      ::close(c->fd);
      c->fd = -1;
    }
  if (s.device) s.device->stop();
  s.device.reset();
  if (s.context) s.context->close();
  for (int i = 0; i < 1000 && uv_run(&s.loop, UV_RUN_NOWAIT) != 0; ++i) {
  }
  s.context.reset();
  uv_run(&s.loop, UV_RUN_NOWAIT);
  uv_loop_close(&s.loop);
  s.library.reset();
  auto& c = capture();
  std::lock_guard lock(c.mutex);
  c.hosts.erase(std::remove(c.hosts.begin(), c.hosts.end(), &s), c.hosts.end());
  std::lock_guard errors_lock(s.log_mutex);
  return s.errors;
}

}  // namespace bentos::testing::detail
