#include "daemon/isolated_child.h"

#include <signal.h>
#include <unistd.h>
#include <uv.h>

#include <cstring>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "daemon/control_commands.h"
#include "daemon/crash_report.h"
#include "daemon/host.h"
#include "isolation/child_limits.h"
#include "isolation/child_process.h"
#include "isolation/child_setup.h"
#include "net/inherited_sockets.h"
#include "util/log.h"

namespace bentos::daemon {

namespace {

constexpr int kExitConfig = 78;    // the device cannot start as configured
constexpr int kExitSoftware = 70;  // the parent spoke something else

// The one socket a child serves: inherited as fd 3, its file the
// parent's (never removed here: the next child serves the same socket).
class InheritedListenSocket : public net::SocketHandover {
 public:
  InheritedListenSocket(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  int take(const std::string& path) override {
    if (path != path_) return -1;
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void listening(const std::string&, int) override {}
  bool closing(const std::string&) override { return false; }

 private:
  std::string path_;
  int fd_;
};

std::string hello_failed(const std::string& error) {
  return nlohmann::json{{"ready", false}, {"error", error}}.dump();
}

std::string hello_ready(device::Device& d) {
  return nlohmann::json{{"ready", true},
                        {"pid", ::getpid()},
                        {"pattern", patterns::pattern_name(d.library().pattern())},
                        {"driver", d.library().name()},
                        {"driver_version", d.library().version()}}
      .dump();
}

// The child's end of the channel: request lines in, control answers out.
// Loop thread only; lives on the stack of run_isolated_child.
class ChannelServer {
 public:
  ChannelServer(uv_loop_t* loop, Host& host, std::function<void()> on_closed)
      : commands_(host, {}), on_closed_(std::move(on_closed)) {
    uv_pipe_init(loop, &pipe_, 0);
    pipe_.data = this;
  }
  bool start(int fd) {
    return uv_pipe_open(&pipe_, fd) == 0 &&
           uv_read_start(reinterpret_cast<uv_stream_t*>(&pipe_), on_alloc, on_read) == 0;
  }
  void close() {
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&pipe_))) uv_close(reinterpret_cast<uv_handle_t*>(&pipe_), nullptr);
  }

 private:
  static void on_alloc(uv_handle_t*, size_t suggested, uv_buf_t* buf) {
    buf->base = new char[suggested];
    buf->len = suggested;
  }
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    std::unique_ptr<char[]> owned(buf->base);
    auto* self = static_cast<ChannelServer*>(stream->data);
    if (nread < 0) {
      self->on_closed_();
      return;
    }
    self->buffer_.append(buf->base, static_cast<size_t>(nread));
    size_t start = 0;
    for (size_t nl; (nl = self->buffer_.find('\n', start)) != std::string::npos; start = nl + 1) {
      self->commands_.answer(self->buffer_.substr(start, nl - start), [self](std::string answer) { self->send(answer); });
    }
    self->buffer_.erase(0, start);
  }
  void send(const std::string& line) {
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&pipe_))) return;
    struct Write {
      uv_write_t req;
      std::string bytes;
    };
    auto* w = new Write{{}, line};
    uv_buf_t buf = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
    if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&pipe_), &buf, 1,
                 [](uv_write_t* req, int) { delete reinterpret_cast<Write*>(req); }) != 0)
      delete w;
  }

  ControlCommands commands_;
  std::function<void()> on_closed_;
  uv_pipe_t pipe_;
  std::string buffer_;
};

}  // namespace

int run_isolated_child(int argc, char** argv) {
  report_crashes_as_isolated_child();  // main() installed the handler
  using isolation::kChildChannelFd;
  using isolation::kChildListenFd;
  bool allow_insecure = false;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    log::Level level;
    if (arg == "--allow-insecure-plugins") allow_insecure = true;
    else if (arg == "--log-level" && i + 1 < argc && log::parse_level(argv[i + 1], level)) log::set_level(level), ++i;
  }
  ::signal(SIGPIPE, SIG_IGN);
  // ^C at a terminal is the parent's to handle: it stops the children in order.
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  std::string line;
  isolation::ChildSetup setup;
  std::string error;
  if (!isolation::read_line(kChildChannelFd, line, 30000) || !isolation::parse_setup(line, setup, error)) {
    log::error("", "isolated child: no usable setup from the host (" + (error.empty() ? "none came" : error) + ")");
    return kExitSoftware;
  }
  config::DeviceSpec spec = setup.spec;
  if (!isolation::confine_child(spec.isolation, setup.parent_pid, error)) {
    error = "device '" + spec.name + "': " + error;
    log::error(spec.name, error);
    isolation::write_line(kChildChannelFd, hello_failed(error));
    return kExitConfig;
  }
  // The parent applied the socket file's mode and group already; the
  // child may no longer be allowed to.
  spec.socket_mode.reset();
  spec.socket_group.reset();
  // Inside its child the device is served in-process.
  spec.isolation.mode = config::IsolationMode::in_process;

  uv_loop_t loop;
  uv_loop_init(&loop);
  int status = 0;
  {
    Host::Settings settings;
    settings.max_connections = setup.max_connections;
    settings.allow_insecure_plugins = allow_insecure;
    Host host(&loop, settings);
    InheritedListenSocket socket(spec.socket.substr(std::strlen("unix://")), setup.check ? -1 : kChildListenFd);
    host.context().set_socket_handover(&socket);
    if (!host.add_device(spec, setup.plugin_path, /*listen=*/!setup.check, error)) {
      log::error(spec.name, error);
      isolation::write_line(kChildChannelFd, hello_failed(error));
      status = kExitConfig;
    } else if (setup.check) {
      isolation::write_line(kChildChannelFd, hello_ready(*host.devices().front()));
    } else {
      isolation::write_line(kChildChannelFd, hello_ready(*host.devices().front()));
      uv_signal_t sigterm;
      std::function<void()> stop;
      ChannelServer channel(&loop, host, [&stop] { stop(); });
      bool stopped = false;
      stop = [&] {
        if (stopped) return;
        stopped = true;
        host.stop();
        channel.close();
        uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
      };
      uv_signal_init(&loop, &sigterm);
      sigterm.data = &stop;
      uv_signal_start(
          &sigterm, [](uv_signal_t* h, int) { (*static_cast<std::function<void()>*>(h->data))(); }, SIGTERM);
      if (!channel.start(kChildChannelFd)) stop();
      uv_run(&loop, UV_RUN_DEFAULT);
    }
    host.stop();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return status;
}

}  // namespace bentos::daemon
