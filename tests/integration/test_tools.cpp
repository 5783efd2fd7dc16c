// bentosctl against the real daemon (what the README shows), and the
// daemon's control socket.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "daemon_runner.h"

using bentos::test::bentosctl_path;
using bentos::test::DaemonRunner;
using bentos::test::run_program;

namespace {

const char* kDevices = R"([{"name": "kv", "plugin": "kv.so"}, {"name": "hello", "plugin": "hello.so"}])";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("bentosctl run: the README's kv session prints each answer and exits 0") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  std::string out;
  const int status = run_program({bentosctl_path(), "run", d.socket("kv"), "open", "rw", "write", "name=bentos", "flush",
                                  "read", "write", "name", "read", "release"},
                                 out);
  CHECK(status == 0);
  CHECK(out ==
        "open rw: opened\n"
        "write \"name=bentos\": wrote 11\n"
        "flush: ok\n"
        "read 65536: read 3 bytes: \"OK\\n\"\n"
        "write \"name\": wrote 4\n"
        "read 65536: read 7 bytes: \"bentos\\n\"\n"
        "release: ok\n");
}

TEST_CASE("bentosctl run: an errno answer is printed by name and number, exit status 1") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  std::string out;
  CHECK(run_program({bentosctl_path(), "run", d.socket("kv"), "open", "read", "release"}, out) == 1);
  CHECK(contains(out, "read 65536: error EAGAIN (11)"));
  CHECK(contains(out, "release: ok"));
  CHECK(run_program({bentosctl_path(), "run", d.socket("hello"), "open", "ioctl", "0x5401"}, out) == 1);
  CHECK(contains(out, "error ENOSYS (38)"));
}

TEST_CASE("bentosctl run: no daemon at the socket is a connection error, exit status 2") {
  const std::string dir = bentos::test::make_temp_dir("bentos-ctl");
  std::string out;
  CHECK(run_program({bentosctl_path(), "run", dir + "/nothing.sock", "--timeout", "200", "open"}, out) == 2);
  CHECK(contains(out, dir + "/nothing.sock"));
  bentos::test::remove_tree(dir);
}

TEST_CASE("bentosctl run --json: one object per op") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  std::string out;
  CHECK(run_program({bentosctl_path(), "run", "--json", d.socket("hello"), "open", "read", "read"}, out) == 0);
  std::vector<nlohmann::json> lines;
  size_t start = 0;
  for (size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(nlohmann::json::parse(out.substr(start, nl - start)));
  }
  REQUIRE(lines.size() == 3);
  CHECK(lines[1]["data"] == "Hello from BentOS!\n");
  CHECK(lines[2]["eof"] == true);
}

TEST_CASE("control socket: stats lists every device with live counters") {
  DaemonRunner d(kDevices, {"--control-socket", "@DIR@/control.sock"});
  REQUIRE(d.ready());
  auto c = d.connect("kv");
  REQUIRE(c);
  REQUIRE(c->open(1, 2));
  REQUIRE(c->open(2, 2));
  std::string out;
  REQUIRE(run_program({bentosctl_path(), "stats", "--control-socket", d.control_socket(), "--json"}, out) == 0);
  const auto stats = nlohmann::json::parse(out);
  REQUIRE(stats["devices"].size() == 2);
  nlohmann::json kv;
  for (const auto& dev : stats["devices"]) {
    if (dev["name"] == "kv") kv = dev;
  }
  REQUIRE(kv.is_object());
  CHECK(kv["sessions"] == 2);
  CHECK(kv["connections"] == 1);
  CHECK(kv["sessions_opened"] == 2);
  CHECK(run_program({bentosctl_path(), "host", d.control_socket(), "frobnicate"}, out) == 1);
  CHECK(contains(out, "unknown command"));
}
