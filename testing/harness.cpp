// The harness behind bentos/testing.hpp: one Device on a loop this file
// owns, its clients on socketpairs, the host's log captured.
//
// Why a socketpair rather than no socket at all: the Device serves Links,
// and a Link is a net::Connection reading frames from a stream. Feeding
// the Device through a socketpair keeps every byte on the daemon's path
// (framing, codec, batching, back-pressure, disconnect cleanup) with one
// new entry point, Device::adopt_connection, where a fake Link would have
// been a second implementation to keep in step. Nothing is bound in the
// file system, and the test never sees the descriptors.
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "bentos/testing.hpp"
#include "config/manifest.h"
#include "daemon/threading_check.h"
#include "device/device.h"
#include "loop/host_context.h"
#include "plugin/library.h"
#include "plugin/manual_clock.h"
#include "util/log.h"
#include "wire/codec.h"

namespace bentos::testing {

namespace detail {

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

// Everything one bentos::testing::host runs: owned by it (pimpl); the
// test's thread, which is the loop thread, except logs/errors (any thread
// logs, under log_mutex).
struct host_state {
  uv_loop_t loop{};
  std::unique_ptr<loop::HostContext> context;
  plugin::ManualClock clock;  // before the device: its timers cancel entries as they go
  std::shared_ptr<plugin::PluginLibrary> library;
  std::unique_ptr<device::Device> device;
  std::string name;
  mutable std::mutex log_mutex;  // logs and errors: plugin threads log too
  std::vector<std::string> logs;
  std::vector<std::string> errors;  // plugin bugs not taken yet
  std::vector<std::weak_ptr<connection_state>> connections;

  void turn() { uv_run(&loop, UV_RUN_NOWAIT); }
  bool exchange_all();
  // Turns the loop and moves bytes until `done()`; false after `timeout`.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  void settle();
  void throw_plugin_errors();
  void on_log(log::Level level, const std::string& line);
};

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

// One harness connection: the test's end of a socketpair, the frames going
// out, the replies come back by id. Shared by its connection, files and
// pendings; its host_state outlives it. The test's thread only.
struct connection_state : std::enable_shared_from_this<connection_state> {
  host_state* host;
  int fd = -1;
  bool eof = false;
  uint64_t next_id = 1;
  uint64_t next_fh = 1;
  std::string out, in;
  std::map<uint64_t, wire::Reply> replies;

  bool exchange() {
    if (fd < 0) return false;
    bool moved = false;
    while (!out.empty()) {
      const ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (n <= 0) break;  // full (the host paused reading) or closed
      out.erase(0, static_cast<size_t>(n));
      moved = true;
    }
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0) eof = true;
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
      moved = true;
    }
    while (in.size() >= 4) {
      const auto* p = reinterpret_cast<const uint8_t*>(in.data());
      const uint32_t len = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
      if (in.size() < 4 + size_t{len}) break;
      wire::Reply reply;
      if (!wire::decode_reply(p + 4, len, reply)) throw failure("the host sent a frame that is not a reply");
      if (!replies.emplace(reply.id, std::move(reply)).second)
        throw failure("the host answered request " + std::to_string(reply.id) + " twice");
      in.erase(0, 4 + size_t{len});
    }
    return moved;
  }

  uint64_t send(wire::Request request) {
    if (fd < 0) throw failure("an op on a connection that was disconnected");
    request.id = next_id++;
    wire::append_request_frame(request, out);
    exchange();
    return request.id;
  }

  reply await(uint64_t id, const std::string& what, std::chrono::milliseconds timeout);
  pending start(wire::Request r, std::string what) {
    const uint64_t id = send(std::move(r));
    return pending(shared_from_this(), id, std::move(what));
  }
};

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

}  // namespace detail

namespace {

using detail::connection_state;
using detail::host_state;

reply from_wire(const wire::Reply& w) {
  reply r;
  switch (w.kind) {
    case wire::ReplyKind::error: r.what = reply::kind::error; break;
    case wire::ReplyKind::empty: r.what = reply::kind::empty; break;
    case wire::ReplyKind::open: r.what = reply::kind::opened; break;
    case wire::ReplyKind::buf: r.what = reply::kind::data; break;
    case wire::ReplyKind::write: r.what = reply::kind::written; break;
    case wire::ReplyKind::ioctl: r.what = reply::kind::ioctl; break;
    case wire::ReplyKind::poll: r.what = reply::kind::poll; break;
  }
  r.error = w.err;
  r.data = w.payload();
  r.written = w.count;
  r.result = w.result;
  r.revents = w.revents;
  return r;
}

wire::Request request(wire::OpKind kind, uint64_t fh) {
  wire::Request r;
  r.kind = kind;
  r.fh = fh;
  return r;
}

// A whole driver behind one device, built the way Host::add_device builds
// one, with the instance's timers moved to the manual clock before its
// create() can start any.
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

}  // namespace

namespace detail {

reply connection_state::await(uint64_t id, const std::string& what, std::chrono::milliseconds timeout) {
  host->run_until([&] { return replies.count(id) > 0 || eof; }, timeout);
  host->throw_plugin_errors();
  auto it = replies.find(id);
  if (it == replies.end())
    throw failure(what + " got no answer within " + std::to_string(timeout.count()) + " ms" +
                  (eof ? " (the host closed the connection)" : " (parked? use start_*() and wait())"));
  reply r = from_wire(it->second);
  replies.erase(it);
  return r;
}

}  // namespace detail

// --- payload ---

namespace payload {

std::string int32(int32_t value) {
  const auto u = static_cast<uint32_t>(value);
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((u >> (8 * i)) & 0xFF);
  return out;
}

std::string float64(double value) {
  uint64_t u;
  std::memcpy(&u, &value, sizeof u);
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((u >> (8 * i)) & 0xFF);
  return out;
}

std::string json(std::string_view text) {
  if (!nlohmann::json::accept(text)) throw failure("payload::json: not JSON: " + std::string(text));
  return std::string(text);
}

std::string text(std::string_view text) { return std::string(text); }

}  // namespace payload

// --- reply ---

int32_t reply::as_int32() const {
  if (data.size() != 4) throw failure("as_int32: the answer is not 4 bytes: " + describe());
  uint32_t u = 0;
  for (int i = 0; i < 4; ++i) u |= uint32_t{static_cast<uint8_t>(data[i])} << (8 * i);
  return static_cast<int32_t>(u);
}

double reply::as_float64() const {
  if (data.size() != 8) throw failure("as_float64: the answer is not 8 bytes: " + describe());
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u |= uint64_t{static_cast<uint8_t>(data[i])} << (8 * i);
  double value;
  std::memcpy(&value, &u, sizeof value);
  return value;
}

std::string reply::describe() const {
  auto quoted = [](const std::string& d) {
    std::string shown = d.size() > 64 ? d.substr(0, 64) + "..." : d;
    return std::to_string(d.size()) + " bytes \"" + shown + "\"";
  };
  switch (what) {
    case kind::error: {
      const char* name = strerrorname_np(error);
      return std::string("error ") + (name ? name : "?") + " (" + std::to_string(error) + ")";
    }
    case kind::empty: return "ok";
    case kind::opened: return "opened";
    case kind::data: return data.empty() ? "data: end of file" : "data " + quoted(data);
    case kind::written: return "written " + std::to_string(written);
    case kind::ioctl: return "ioctl result " + std::to_string(result) + ", " + quoted(data);
    case kind::poll: return "poll revents 0x" + [&] {
      char hex[16];
      std::snprintf(hex, sizeof hex, "%x", revents);
      return std::string(hex);
    }();
  }
  return "?";
}

// --- pending ---

bool pending::ready() {
  conn_->host->turn();
  conn_->host->exchange_all();
  return conn_->replies.count(id_) > 0;
}

reply pending::wait(std::chrono::milliseconds timeout) { return conn_->await(id_, what_, timeout); }

// --- file ---

#define BENTOS_TESTING_FH_WHAT(op) (std::string(op) + " on fh " + std::to_string(fh_))

pending file::start_write(std::string_view bytes) {
  auto r = request(wire::OpKind::write, fh_);
  r.data = std::string(bytes);
  return conn_->start(std::move(r), BENTOS_TESTING_FH_WHAT("write"));
}
pending file::start_read(uint64_t size) {
  auto r = request(wire::OpKind::read, fh_);
  r.size = size;
  return conn_->start(std::move(r), BENTOS_TESTING_FH_WHAT("read"));
}
pending file::start_flush() { return conn_->start(request(wire::OpKind::flush, fh_), BENTOS_TESTING_FH_WHAT("flush")); }
pending file::start_fsync(bool datasync) {
  auto r = request(wire::OpKind::fsync, fh_);
  r.datasync = datasync;
  return conn_->start(std::move(r), BENTOS_TESTING_FH_WHAT("fsync"));
}
pending file::start_ioctl(uint32_t cmd, std::string_view in, uint64_t out_size) {
  auto r = request(wire::OpKind::ioctl, fh_);
  r.cmd = cmd;
  r.data = std::string(in);
  r.out_bufsz = out_size;
  return conn_->start(std::move(r), BENTOS_TESTING_FH_WHAT("ioctl"));
}
pending file::start_poll(uint32_t events) {
  auto r = request(wire::OpKind::poll, fh_);
  r.events = events;
  return conn_->start(std::move(r), BENTOS_TESTING_FH_WHAT("poll"));
}
pending file::start_release() {
  return conn_->start(request(wire::OpKind::release, fh_), BENTOS_TESTING_FH_WHAT("release"));
}

#undef BENTOS_TESTING_FH_WHAT

reply file::write(std::string_view bytes) { return start_write(bytes).wait(); }
reply file::read(uint64_t size) { return start_read(size).wait(); }
reply file::flush() { return start_flush().wait(); }
reply file::fsync(bool datasync) { return start_fsync(datasync).wait(); }
reply file::ioctl(uint32_t cmd, std::string_view in, uint64_t out_size) { return start_ioctl(cmd, in, out_size).wait(); }
reply file::poll(uint32_t events) { return start_poll(events).wait(); }
reply file::release() { return start_release().wait(); }

// --- connection ---

reply connection::try_open(int flags) {
  auto r = request(wire::OpKind::open, conn_->next_fh++);
  r.flags = flags;
  return conn_->start(std::move(r), "open").wait();
}

file connection::open(int flags) {
  const uint64_t fh = conn_->next_fh;
  const reply r = try_open(flags);
  if (!r.ok()) throw failure("open answered " + r.describe());
  return file(conn_, fh);
}

void connection::disconnect() {
  if (conn_->fd < 0) return;
  conn_->exchange();
  ::close(conn_->fd);
  conn_->fd = -1;
  conn_->host->settle();  // the host sees the end and ends the sessions
  conn_->host->throw_plugin_errors();
}

bool connection::closed_by_host() const {
  conn_->exchange();
  return conn_->eof;
}

// --- host ---

namespace {

// The process-wide log sink, installed once and never removed: replacing
// it later would take log.cpp's lock while a plugin thread may be inside
// the sink waiting for ours. With no host alive, lines go to stderr.
void install_log_sink() {
  static std::once_flag once;
  std::call_once(once, [] {
    log::set_sink([](log::Level level, const std::string& line) {
      auto& cap = detail::capture();
      std::lock_guard l(cap.mutex);
      if (cap.hosts.empty()) std::fprintf(stderr, "%s\n", line.c_str());
      for (host_state* h : cap.hosts) h->on_log(level, line);
    });
  });
}

std::unique_ptr<host_state> new_state() {
  auto s = std::make_unique<host_state>();
  if (uv_loop_init(&s->loop) != 0) throw failure("bentos::testing: uv_loop_init failed");
  s->context = std::make_unique<loop::HostContext>(&s->loop, /*max_connections=*/1024);
  install_log_sink();
  auto& c = detail::capture();
  std::lock_guard lock(c.mutex);
  c.hosts.push_back(s.get());
  return s;
}

// Stops the device (its sessions end, the plugin's destroy() runs), then
// closes the loop. Returns the plugin errors nobody took.
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
  auto& c = detail::capture();
  std::lock_guard lock(c.mutex);
  c.hosts.erase(std::remove(c.hosts.begin(), c.hosts.end(), &s), c.hosts.end());
  std::lock_guard errors_lock(s.log_mutex);
  return s.errors;
}

}  // namespace

host::host(const std::string& plugin_path, options opts) : state_(new_state()) {
  std::string error;
  // Absolute, as the manifest the device is built from requires: a test
  // names its plugin relative to where it runs ("./kv.so").
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(plugin_path, ec);
  auto library = plugin::PluginLibrary::load(ec ? plugin_path : absolute.string(), error);
  if (!library) {
    shut_down(*state_);
    throw failure("bentos::testing: " + error);
  }
  try {
    start_device(*state_, std::move(library), opts);
  } catch (...) {
    shut_down(*state_);
    throw;
  }
}

host::host(bentos_driver_entry_fn entry, options opts) : state_(new_state()) {
  std::string error;
  auto library = plugin::PluginLibrary::from_entry(entry, "(linked into the test)", error);
  if (!library) {
    shut_down(*state_);
    throw failure("bentos::testing: " + error);
  }
  try {
    start_device(*state_, std::move(library), opts);
  } catch (...) {
    shut_down(*state_);
    throw;
  }
}

host::~host() {
  connections_.clear();
  const auto left = shut_down(*state_);
  if (left.empty() || std::uncaught_exceptions() > 0) return;
  std::fprintf(stderr, "bentos::testing: the host saw a bug in the driver under test that no op reported:\n");
  for (const auto& e : left) std::fprintf(stderr, "  %s\n", e.c_str());
  std::fprintf(stderr, "(take an expected one with host::expect_plugin_error)\n");
  std::abort();
}

connection& host::connect() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw failure(std::string("bentos::testing: socketpair: ") + std::strerror(errno));
  auto conn = std::make_shared<connection_state>();
  conn->host = state_.get();
  conn->fd = fds[0];
  std::string error;
  const std::string peer = "harness#" + std::to_string(connections_.size() + 1);
  if (!state_->device->adopt_connection(fds[1], peer, error)) {
    ::close(fds[0]);
    throw failure("bentos::testing: " + error);
  }
  state_->connections.push_back(conn);
  connections_.push_back(std::unique_ptr<connection>(new connection(conn)));
  state_->turn();
  return *connections_.back();
}

file host::open(int flags) {
  if (!first_) first_ = &connect();
  return first_->open(flags);
}

void host::advance(std::chrono::milliseconds span) {
  if (span.count() < 0) throw failure("advance: a negative span");
  state_->settle();
  state_->clock.advance(static_cast<uint64_t>(span.count()), [this] { state_->settle(); });
  state_->settle();
  state_->throw_plugin_errors();
}

uint64_t host::now_ms() const { return state_->clock.now_ms(); }

bool host::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const bool ok = state_->run_until(done, timeout);
  state_->throw_plugin_errors();
  return ok;
}

void host::settle() {
  state_->settle();
  state_->throw_plugin_errors();
}

std::vector<std::string> host::logs() const {
  std::lock_guard lock(state_->log_mutex);
  return state_->logs;
}

std::vector<std::string> host::plugin_errors() const {
  std::lock_guard lock(state_->log_mutex);
  return state_->errors;
}

void host::expect_plugin_error(std::string_view text) {
  state_->settle();
  std::lock_guard lock(state_->log_mutex);
  auto& errors = state_->errors;
  for (auto it = errors.begin(); it != errors.end(); ++it) {
    if (it->find(text) != std::string::npos) {
      errors.erase(it);
      return;
    }
  }
  std::string seen;
  for (const auto& e : errors) seen += "\n  " + e;
  throw failure("expected a plugin error containing \"" + std::string(text) + "\"; " +
                (errors.empty() ? std::string("there is none") : "there are:" + seen));
}

}  // namespace bentos::testing
