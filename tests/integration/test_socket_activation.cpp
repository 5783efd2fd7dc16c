// Sockets kept across restarts (docs/operations.md, "Sockets across
// restarts"): the real daemon under a stand-in for systemd
// (support/service_manager.h) that keeps the fd store and passes the
// stored sockets back on the next start, as FileDescriptorStoreMax= in the
// units makes systemd do. Clients that connect while no daemon runs must
// queue, never be refused, and be served by the next process.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <doctest/doctest.h>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "client.h"
#include "daemon_runner.h"
#include "outcome.h"
#include "service_manager.h"

using bentos::test::outcome;
using bentos::test::ServiceManager;

namespace {

const char kHelloReply[] = "data:Hello from BentOS!\n";

// A temporary directory with a manifest, and the daemon's command line.
struct Setup {
  std::string dir = bentos::test::make_temp_dir("bentos-sockets");
  ~Setup() {
    if (!std::getenv("BENTOS_KEEP_TEST_DIRS")) bentos::test::remove_tree(dir);
  }
  void manifest(const std::string& devices) const {
    bentos::test::write_text(dir + "/devices.json", "{\"devices\": " + devices + "}\n");
  }
  std::string socket(const std::string& device) const { return dir + "/run/" + device + ".sock"; }
  std::string control() const { return dir + "/control.sock"; }
  std::string log() const { return dir + "/daemon.log"; }
  std::vector<std::string> args() const {
    std::vector<std::string> a = {bentos::test::daemon_path(), "--config", dir + "/devices.json",
                                  "--plugin-dir", bentos::test::plugin_dir(), "--socket-dir", dir + "/run",
                                  "--control-socket", control()};
    for (const auto& t : bentos::test::trust_args()) a.push_back(t);
    return a;
  }
  std::string log_text() const {
    std::string out;
    bentos::test::run_program({"/bin/cat", log()}, out);
    return out;
  }
};

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += "[" + x + "] ";
  return s;
}

// connect(2) to a Unix socket path: the fd, or -errno.
int connect_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd);
    return -err;
  }
  return fd;
}

// Clients that connect, open and read hello over and over, each noting
// whether no daemon was running when it connected.
struct Load {
  std::atomic<bool> stop{false};
  std::atomic<bool> daemon_down{false};
  std::atomic<int> refused{0};      // ECONNREFUSED or ENOENT: what must never happen
  std::atomic<int> other_errors{0};
  std::atomic<int> served{0};
  std::atomic<int> served_after_queueing{0};  // connected while down, served by the next process
  std::atomic<int> dropped{0};      // accepted by a process that then stopped: EOF, not a refusal
  std::vector<std::thread> threads;

  void start(const std::string& path, int clients) {
    for (int i = 0; i < clients; ++i) {
      threads.emplace_back([this, path] {
        while (!stop) {
          const bool down = daemon_down;
          const int fd = connect_unix(path);
          if (fd == -ECONNREFUSED || fd == -ENOENT) {
            ++refused;
          } else if (fd < 0) {
            ++other_errors;
          } else {
            auto c = bentos::client::Connection::adopt(fd);
            const std::string opened = outcome(c->open(1, 2, 15000));
            const std::string read = opened == "opened" ? outcome(c->read(1, 100, 15000)) : opened;
            if (read == kHelloReply) {
              ++served;
              if (down) ++served_after_queueing;
            } else {
              ++dropped;
            }
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
      });
    }
  }
  void finish() {
    stop = true;
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
  ~Load() { finish(); }  // also when a REQUIRE ends the test early
};

}  // namespace

TEST_CASE("every listening socket goes to the fd store, named by its path") {
  Setup s;
  s.manifest(R"([{"name": "hello", "plugin": "hello.so"}, {"name": "kv", "plugin": "kv.so"}])");
  ServiceManager sm(s.dir);
  sm.start(s.args(), s.log());
  REQUIRE_MESSAGE(sm.wait_ready(), s.log_text());
  const auto names = sm.stored_names();
  CHECK_MESSAGE(names.size() == 3, joined(names));
  CHECK(contains(names, s.socket("hello")));
  CHECK(contains(names, s.socket("kv")));
  CHECK(contains(names, s.control()));
  CHECK(sm.stop(SIGTERM) == 0);
  // Handed over: the files stay for the next process, the store keeps them.
  CHECK(std::filesystem::exists(s.socket("hello")));
  CHECK(std::filesystem::exists(s.control()));
  CHECK(sm.stored_names().size() == 3);
}

TEST_CASE("a restart under load: no connect is refused, queued clients are served by the next process") {
  Setup s;
  s.manifest(R"([{"name": "hello", "plugin": "hello.so"}])");
  ServiceManager sm(s.dir);
  sm.start(s.args(), s.log());
  REQUIRE_MESSAGE(sm.wait_ready(), s.log_text());

  Load load;
  load.start(s.socket("hello"), 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // A clean stop (SIGTERM: systemctl restart, an upgrade) and a crash
  // (SIGKILL: Restart=on-failure), each followed by a new process.
  for (int signum : {SIGTERM, SIGKILL}) {
    load.daemon_down = true;
    const int status = sm.stop(signum);
    CHECK_MESSAGE(status == (signum == SIGTERM ? 0 : 128 + SIGKILL), s.log_text());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // clients queue meanwhile
    sm.start(s.args(), s.log());
    REQUIRE_MESSAGE(sm.wait_ready(), s.log_text());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    load.daemon_down = false;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  load.finish();
  INFO("served " << load.served.load() << ", after queueing " << load.served_after_queueing.load()
                 << ", dropped " << load.dropped.load() << ", other errors " << load.other_errors.load());
  CHECK(load.refused.load() == 0);
  CHECK(load.other_errors.load() == 0);
  CHECK(load.served.load() > 0);
  CHECK(load.served_after_queueing.load() > 0);
  const std::string log = s.log_text();
  CHECK_MESSAGE(log.find("taken over from the previous process") != std::string::npos, log);
  CHECK(log.find("another server is listening") == std::string::npos);
  CHECK(sm.stop(SIGTERM) == 0);
}

TEST_CASE("stored sockets the manifests no longer name are closed, removed and dropped from the store") {
  Setup s;
  s.manifest(R"([{"name": "hello", "plugin": "hello.so"}, {"name": "kv", "plugin": "kv.so"},
                 {"name": "echo", "plugin": "echo.so"}])");
  ServiceManager sm(s.dir);
  sm.start(s.args(), s.log());
  REQUIRE_MESSAGE(sm.wait_ready(), s.log_text());
  REQUIRE(sm.stop(SIGTERM) == 0);

  SUBCASE("at start") {
    s.manifest(R"([{"name": "hello", "plugin": "hello.so"}, {"name": "echo", "plugin": "echo.so"}])");
    sm.start(s.args(), s.log());
    REQUIRE_MESSAGE(sm.wait_ready(), s.log_text());
    CHECK(contains(sm.messages(), "FDSTOREREMOVE=1\nFDNAME=" + s.socket("kv")));
    CHECK_FALSE(contains(sm.stored_names(), s.socket("kv")));
    CHECK_FALSE(std::filesystem::exists(s.socket("kv")));
    CHECK(sm.stored_names().size() == 3);  // hello, echo, control
  }
  SUBCASE("at a reload, while a new device's socket is stored") {
    sm.start(s.args(), s.log());
    REQUIRE_MESSAGE(sm.wait_ready(), s.log_text());
    s.manifest(R"([{"name": "hello", "plugin": "hello.so"}, {"name": "echo", "plugin": "echo.so"},
                   {"name": "ticker", "plugin": "ticker.so"}])");
    ::kill(sm.pid(), SIGHUP);
    REQUIRE(sm.wait_ready());  // READY=1 again once the reload is done
    const auto names = sm.stored_names();
    CHECK_MESSAGE(!contains(names, s.socket("kv")), joined(names));
    CHECK(contains(names, s.socket("ticker")));
    CHECK(contains(names, s.socket("hello")));
    CHECK_FALSE(std::filesystem::exists(s.socket("kv")));
  }
  auto c = bentos::client::Connection::adopt(connect_unix(s.socket("hello")));
  CHECK(outcome(c->open(1, 2)) == "opened");
  CHECK(outcome(c->read(1, 100)) == kHelloReply);
  CHECK(sm.stop(SIGTERM) == 0);
}

TEST_CASE("a passed fd that is not a listening Unix socket is dropped; the daemon binds its own") {
  Setup s;
  s.manifest(R"([{"name": "hello", "plugin": "hello.so"}])");
  ServiceManager sm(s.dir);
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  ::close(pair[1]);
  sm.store("bogus", pair[0]);
  sm.start(s.args(), s.log());
  REQUIRE_MESSAGE(sm.wait_ready(), s.log_text());
  CHECK(contains(sm.messages(), "FDSTOREREMOVE=1\nFDNAME=bogus"));
  CHECK_FALSE(contains(sm.stored_names(), "bogus"));
  CHECK_MESSAGE(s.log_text().find("inherited socket 'bogus' is unusable (fd 3: not listening)") != std::string::npos,
                s.log_text());
  auto c = bentos::client::Connection::adopt(connect_unix(s.socket("hello")));
  CHECK(outcome(c->open(1, 2)) == "opened");
  CHECK(sm.stop(SIGTERM) == 0);
}
