#include "in_process_host.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "config/manifest.h"
#include "wire/codec.h"

namespace bentos::test {

namespace {

std::vector<std::string> build_tree_plugin_dirs() {
  const char* build = std::getenv("BENTOS_BUILD_DIR");
  if (!build || !*build) throw std::runtime_error("BENTOS_BUILD_DIR is not set (run the tests through meson test)");
  return {std::string(build) + "/plugins", std::string(build) + "/tests/plugins"};
}

// Ids this client gives its requests; far from any id a stray frame could
// carry, so a reply in this range must answer one of ours.
constexpr uint64_t kFirstId = uint64_t{1} << 40;

}  // namespace

wire::Request make_request(wire::OpKind kind, uint64_t fh) {
  wire::Request r;
  r.kind = kind;
  r.fh = fh;
  return r;
}

InProcessHost::InProcessHost(const std::string& devices_json, std::vector<std::string> plugin_dirs,
                             daemon::Host::Settings settings) {
  if (plugin_dirs.empty()) plugin_dirs = build_tree_plugin_dirs();
  if (uv_loop_init(&loop_) != 0) throw std::runtime_error("uv_loop_init failed");
  char dir_template[] = "/tmp/bentos-in-process.XXXXXX";  // mkdtemp's template
  if (!mkdtemp(dir_template)) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  socket_dir_ = dir_template;
  const auto parsed = config::parse_manifest("{\"devices\": " + devices_json + "}", "test-manifest", socket_dir_);
  std::string problems;
  for (const auto& e : parsed.errors) problems += e + "; ";
  host_ = std::make_unique<daemon::Host>(&loop_, settings);
  for (const auto& spec : parsed.devices) {
    std::string error;
    const auto path = config::find_plugin(spec.plugin, socket_dir_, plugin_dirs, error);
    if (!path || !host_->add_device(spec, *path, /*listen=*/true, error)) problems += error + "; ";
  }
  if (!problems.empty()) {
    shutdown();  // stops what did start (the destructor will not run)
    throw std::runtime_error("in-process host: " + problems);
  }
}

InProcessHost::~InProcessHost() { shutdown(); }

void InProcessHost::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (host_) host_->stop();
  // Close callbacks and anything stop() queued run here.
  for (int i = 0; i < 1000 && uv_run(&loop_, UV_RUN_NOWAIT) != 0; ++i) {
  }
  host_.reset();
  uv_run(&loop_, UV_RUN_NOWAIT);
  uv_loop_close(&loop_);
  std::error_code ignored;
  std::filesystem::remove_all(socket_dir_, ignored);
}

device::Device& InProcessHost::device(const std::string& name) {
  for (device::Device* d : host_->devices())
    if (d->name() == name) return *d;
  throw std::runtime_error("in-process host: no device '" + name + "'");
}

std::string InProcessHost::socket_path(const std::string& name) {
  std::string uri = device(name).endpoint_uri();
  if (uri.rfind("unix://", 0) != 0) throw std::runtime_error("device '" + name + "' is not on a unix socket");
  return uri.substr(7);
}

bool InProcessHost::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    turn();
    if (done()) return true;
    // Nothing ready: wait a little for a timer, a socket or another thread.
    uv_update_time(&loop_);
    usleep(200);
  }
  return true;
}

void InProcessHost::run_for(std::chrono::milliseconds span) {
  const auto deadline = std::chrono::steady_clock::now() + span;
  run_until([&] { return std::chrono::steady_clock::now() >= deadline; }, span + 1s);
}

LoopClient::LoopClient(InProcessHost& host, const std::string& device) : host_(host), next_id_(kFirstId) {
  connect_to(host.socket_path(device));
}

LoopClient::LoopClient(InProcessHost& host, const std::string& socket_path, bool) : host_(host), next_id_(kFirstId) {
  connect_to(socket_path);
}

LoopClient::~LoopClient() { close(); }

void LoopClient::connect_to(const std::string& path) {
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  // A Unix socket connect completes at once (queued in the backlog); the
  // host accepts it on its next loop turn.
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("connect " + path + ": " + std::strerror(errno));
}

void LoopClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

uint64_t LoopClient::send(wire::Request request) {
  request.id = next_id_++;
  wire::append_request_frame(request, out_);
  exchange();
  return request.id;
}

void LoopClient::send_raw(const std::string& bytes) {
  out_ += bytes;
  stray_ = true;
  exchange();
}

bool LoopClient::exchange() {
  if (fd_ < 0) return false;
  bool moved = false;
  while (!out_.empty()) {
    const ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n <= 0) break;  // full (the host paused reading) or closed by the host
    out_.erase(0, static_cast<size_t>(n));
    moved = true;
  }
  char buf[65536];
  for (;;) {
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n == 0) eof_ = true;
    if (n <= 0) break;
    in_.append(buf, static_cast<size_t>(n));
    moved = true;
  }
  take_replies();
  return moved;
}

void LoopClient::take_replies() {
  while (in_.size() >= 4) {
    const auto* p = reinterpret_cast<const uint8_t*>(in_.data());
    const uint32_t len = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
    if (in_.size() < 4 + size_t{len}) return;
    wire::Reply reply;
    if (!wire::decode_reply(p + 4, len, reply)) {
      violations_.push_back("a frame of " + std::to_string(len) + " bytes that is not a reply");
    } else if (reply.id >= kFirstId && reply.id < next_id_) {
      if (!replies_.emplace(reply.id, reply).second)
        violations_.push_back("request " + std::to_string(reply.id) + " answered twice");
    } else if (!stray_) {
      // Only a stray or mangled frame may be answered with another id.
      violations_.push_back("a reply with id " + std::to_string(reply.id) + ", which no request had");
    }
    in_.erase(0, 4 + size_t{len});
  }
}

std::optional<wire::Reply> LoopClient::reply(uint64_t id) {
  auto it = replies_.find(id);
  if (it == replies_.end()) return std::nullopt;
  return it->second;
}

std::optional<wire::Reply> LoopClient::await(uint64_t id, std::chrono::milliseconds timeout) {
  host_.run_until(
      [&] {
        exchange();
        return replies_.count(id) > 0 || eof_;
      },
      timeout);
  return reply(id);
}

wire::Reply LoopClient::call(wire::Request request, std::chrono::milliseconds timeout) {
  const wire::OpKind op = request.kind;
  const uint64_t id = send(std::move(request));
  auto r = await(id, timeout);
  if (!r)
    throw std::runtime_error(std::string("no reply to ") + wire::op_name(op) + " within " +
                             std::to_string(timeout.count()) + " ms" + (eof_ ? " (the host closed the connection)" : ""));
  return *r;
}

wire::Reply LoopClient::open(uint64_t fh, int32_t flags) {
  auto r = make_request(wire::OpKind::open, fh);
  r.flags = flags;
  return call(std::move(r));
}

wire::Reply LoopClient::read(uint64_t fh, uint64_t size) {
  auto r = make_request(wire::OpKind::read, fh);
  r.size = size;
  return call(std::move(r));
}

wire::Reply LoopClient::write(uint64_t fh, const std::string& data) {
  auto r = make_request(wire::OpKind::write, fh);
  r.data = data;
  return call(std::move(r));
}

wire::Reply LoopClient::release(uint64_t fh) { return call(make_request(wire::OpKind::release, fh)); }

wire::Reply LoopClient::ioctl(uint64_t fh, uint32_t cmd, const std::string& in, uint64_t out_bufsz) {
  auto r = make_request(wire::OpKind::ioctl, fh);
  r.cmd = cmd;
  r.data = in;
  r.out_bufsz = out_bufsz;
  return call(std::move(r));
}

wire::Reply LoopClient::poll(uint64_t fh, uint32_t events) {
  auto r = make_request(wire::OpKind::poll, fh);
  r.events = events;
  return call(std::move(r));
}

void LoopClient::settle() {
  for (int quiet = 0, turns = 0; quiet < 3 && turns < 1000; ++turns) {
    host_.turn();
    quiet = exchange() ? 0 : quiet + 1;
  }
}

}  // namespace bentos::test
