// ControlServer's limits, in process with small values: a connection over
// max_clients gets one error line and is closed, and a slot frees when a
// client leaves; a client idle for idle_timeout_ms is closed, while one
// that keeps talking stays.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>

#include "daemon/control_server.h"
#include "daemon/host.h"

using bentos::daemon::ControlLimits;
using bentos::daemon::ControlServer;
using bentos::daemon::Host;

namespace {

// A Host with no devices and its control socket, pumped by the test.
struct Served {
  explicit Served(ControlLimits limits) {
    uv_loop_init(&loop);
    char dir_template[] = "/tmp/bentos-control-limits.XXXXXX";  // mkdtemp's template
    REQUIRE(mkdtemp(dir_template) != nullptr);
    dir = dir_template;
    path = dir + "/control.sock";
    host = std::make_unique<Host>(&loop, Host::Settings{});
    std::string error;
    server = ControlServer::open(*host, path, error, {}, limits);
    REQUIRE_MESSAGE(server, error);
  }
  ~Served() {
    server.reset();
    host->stop();
    host.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
  // Runs the loop until `done` or 5 s pass.
  bool pump_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      uv_run(&loop, UV_RUN_NOWAIT);
      if (done()) return true;
      ::usleep(1000);
    }
    return false;
  }
  uv_loop_t loop;
  std::string dir, path;
  std::unique_ptr<Host> host;
  std::unique_ptr<ControlServer> server;
};

int connect_to(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

// What one client has received, and whether the server closed it.
struct Peer {
  int fd;
  std::string got;
  bool closed = false;
  void drain() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        got.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) closed = true;
      return;
    }
  }
  void send(const std::string& line) { REQUIRE(::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size())); }
};

}  // namespace

TEST_CASE("control socket: a connection over max_clients is answered with an error and closed; a freed slot serves") {
  Served s(ControlLimits{2, 0});
  Peer a{connect_to(s.path)}, b{connect_to(s.path)};
  a.send("{\"command\": \"status\"}\n");
  b.send("{\"command\": \"status\"}\n");
  REQUIRE(s.pump_until([&] { a.drain(); b.drain(); return !a.got.empty() && !b.got.empty(); }));
  Peer c{connect_to(s.path)};
  REQUIRE(s.pump_until([&] { c.drain(); return c.closed; }));
  CHECK(c.got.find("\"ok\":false") != std::string::npos);
  CHECK(c.got.find("too many control connections (2 open)") != std::string::npos);
  // The two served clients are untouched, and a slot frees when one leaves.
  a.drain();
  CHECK_FALSE(a.closed);
  ::close(b.fd);
  REQUIRE(s.pump_until([&] { return true; }));
  Peer d{connect_to(s.path)};
  d.send("{\"command\": \"status\"}\n");
  REQUIRE(s.pump_until([&] { d.drain(); return d.got.find("\"ok\":true") != std::string::npos; }));
  CHECK_FALSE(d.closed);
  ::close(a.fd);
  ::close(c.fd);
  ::close(d.fd);
}

TEST_CASE("control socket: an idle client is closed after idle_timeout_ms; one that keeps asking stays") {
  Served s(ControlLimits{8, 200});
  Peer idle{connect_to(s.path)}, busy{connect_to(s.path)};
  const auto start = std::chrono::steady_clock::now();
  auto last_ask = start;
  size_t answers = 0;
  REQUIRE(s.pump_until([&] {
    if (std::chrono::steady_clock::now() - last_ask > std::chrono::milliseconds(50)) {
      busy.send("{\"command\": \"status\"}\n");
      ++answers;
      last_ask = std::chrono::steady_clock::now();
    }
    idle.drain();
    busy.drain();
    return idle.closed;
  }));
  // Not before the timeout (less the loop clock's millisecond of caching).
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(150));
  CHECK(idle.got.empty());  // closed without a word: it asked nothing
  busy.drain();
  CHECK_FALSE(busy.closed);
  CHECK(answers > 2);
  ::close(idle.fd);
  ::close(busy.fd);
}
