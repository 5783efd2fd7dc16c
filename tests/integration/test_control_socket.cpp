// The control socket's protocol against the real daemon (control_commands.h):
// list, status, help; several requests on one connection; bad JSON,
// unknown commands and over-long lines answered ok:false without harm; the
// socket's mode; and bentosctl's tables over it.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <string>

#include "control_connection.h"
#include "daemon_runner.h"
#include "outcome.h"

using bentos::test::bentosctl_path;
using bentos::test::ControlConnection;
using bentos::test::DaemonRunner;
using bentos::test::outcome;
using bentos::test::run_program;
using nlohmann::json;

namespace {

const char* kDevices = R"([
  {"name": "kv", "plugin": "kv.so", "device_path": "/dev/bentos/store"},
  {"name": "hello", "plugin": "hello.so"}
])";

const std::vector<std::string> kControlArgs = {"--control-socket", "@DIR@/control.sock"};

bool contains(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

json find_device(const json& answer, const std::string& name) {
  for (const auto& d : answer["devices"])
    if (d["name"] == name) return d;
  return nullptr;
}

}  // namespace

TEST_CASE("control list: every device with pattern, driver, plugin file, socket and device path") {
  DaemonRunner d(kDevices, kControlArgs);
  REQUIRE(d.ready());
  const json answer = bentos::test::ask_control(d.control_socket(), {{"command", "list"}});
  REQUIRE(answer.is_object());
  CHECK(answer["ok"] == true);
  REQUIRE(answer["devices"].size() == 2);
  const json kv = find_device(answer, "kv");
  REQUIRE(kv.is_object());
  CHECK(kv["pattern"] == "write_read");
  CHECK(kv["driver"] == "kv");
  CHECK(kv["driver_version"] == "1.0.0");
  CHECK(kv["plugin"] == bentos::test::plugin_dir() + "/kv.so");
  CHECK(kv["socket"] == "unix://" + d.socket("kv"));
  CHECK(kv["device_path"] == "/dev/bentos/store");  // from the manifest
  // Without one in the manifest: /dev/bentos/<name>.
  CHECK(find_device(answer, "hello")["device_path"] == "/dev/bentos/hello");
  CHECK(find_device(answer, "hello")["pattern"] == "raw");

  // Narrowed to one device; an unknown one is an error.
  const json one = bentos::test::ask_control(d.control_socket(), {{"command", "list"}, {"device", "hello"}});
  CHECK(one["ok"] == true);
  CHECK(one["devices"].size() == 1);
  const json none = bentos::test::ask_control(d.control_socket(), {{"command", "list"}, {"device", "nope"}});
  CHECK(none["ok"] == false);
  CHECK(none["error"] == "no device 'nope'");
}

TEST_CASE("control status: version, pid, uptime, devices, live connections and sessions") {
  DaemonRunner d(kDevices, kControlArgs);
  REQUIRE(d.ready());
  auto c = d.connect("kv");
  REQUIRE(c);
  CHECK(outcome(c->open(1, 2)) == "opened");
  CHECK(outcome(c->open(2, 2)) == "opened");
  const json status = bentos::test::ask_control(d.control_socket(), {{"command", "status"}});
  CHECK(status["ok"] == true);
  CHECK(status["version"].is_string());
  CHECK_FALSE(status["version"].get<std::string>().empty());
  CHECK(status["pid"].get<int>() > 0);
  CHECK(status["uptime_seconds"].get<int>() >= 0);
  CHECK(status["devices"] == 2);
  CHECK(status["connections"] == 1);
  CHECK(status["sessions"] == 2);
  CHECK(status["max_connections"] == 1024);
}

TEST_CASE("control: several requests on one connection, answered in order; bare words; ids echoed") {
  DaemonRunner d(kDevices, kControlArgs);
  REQUIRE(d.ready());
  ControlConnection c(d.control_socket());
  REQUIRE(c.connected());
  // Three requests in one write, a blank line among them (ignored).
  REQUIRE(c.send_raw("{\"command\": \"status\", \"id\": 1}\n\nlist\r\n{\"command\": \"help\", \"id\": \"x\"}\n"));
  const json first = json::parse(c.read_line());
  CHECK(first["ok"] == true);
  CHECK(first["id"] == 1);
  CHECK(first.contains("uptime_seconds"));
  const json second = json::parse(c.read_line());
  CHECK(second["ok"] == true);
  CHECK(second["devices"].size() == 2);
  const json third = json::parse(c.read_line());
  CHECK(third["ok"] == true);
  CHECK(third["id"] == "x");
  for (const char* command : {"list", "status", "stats", "metrics", "reload", "help"}) {
    CHECK(third["commands"].contains(command));
  }
  // The connection stays open for more.
  CHECK(c.ask_json({{"command", "stats"}})["ok"] == true);
  // A last request without its newline is answered when the client closes its side.
  REQUIRE(c.send_raw(R"({"command": "status"})"));
  c.finish_sending();
  CHECK(json::parse(c.read_line())["ok"] == true);
  CHECK(c.closed_by_peer());
}

TEST_CASE("control: bad requests answer ok:false with a reason and the connection keeps serving") {
  DaemonRunner d(kDevices, kControlArgs);
  REQUIRE(d.ready());
  ControlConnection c(d.control_socket());
  REQUIRE(c.connected());
  const auto error_of = [&c](const std::string& line) {
    const json answer = c.ask(line);
    REQUIRE(answer.is_object());
    CHECK(answer["ok"] == false);
    return answer.value("error", std::string());
  };
  CHECK(contains(error_of("{\"command\": \"list\""), "bad JSON"));
  CHECK(contains(error_of("{\"command\": \"frobnicate\"}"), "unknown command 'frobnicate'"));
  CHECK(contains(error_of("frobnicate"), "unknown command 'frobnicate'"));
  CHECK(contains(error_of("[\"list\"]"), "expected a JSON object"));
  CHECK(contains(error_of("{\"command\": 3}"), "'command' must be a string"));
  CHECK(contains(error_of("{\"cmd\": \"list\"}"), "unknown key 'cmd'"));
  CHECK(contains(error_of("{}"), "no \"command\""));
  CHECK(contains(error_of("LIST please"), "bad request"));
  CHECK(contains(error_of("{\"command\": \"status\", \"device\": \"kv\"}"), "list and stats only"));
  CHECK(contains(error_of(std::string("{\"command\": \"\xff\xfe\"}")), "bad JSON"));  // JSON is UTF-8
  // Deep nesting is refused before parsing (copying it would recurse per level).
  CHECK(contains(error_of("{\"command\": \"status\", \"id\": " + std::string(30000, '[') + "}"),
                 "nested deeper than 4 levels"));
  CHECK(contains(error_of("{\"command\": \"status\", \"id\": {\"a\": 1}}"), "'id' must be a string"));
  CHECK(c.ask("{\"command\": \"status\", \"id\": \"[{[{[{\"}")["id"] == "[{[{[{");  // brackets in a string are text
  // A line over 64 KiB is refused and skipped, up to its newline.
  CHECK(contains(error_of(std::string(70000, 'x')), "longer than 65536 bytes"));
  CHECK(c.ask("list")["ok"] == true);
  // Oversized and split across many writes: still one answer.
  REQUIRE(c.send_raw("{\"command\": \"" + std::string(40000, 'y')));
  REQUIRE(c.send_raw(std::string(40000, 'y') + "\"}\nstatus\n"));
  CHECK(contains(c.read_line(), "longer than 65536 bytes"));
  CHECK(json::parse(c.read_line())["ok"] == true);
  // The daemon is unharmed (the runner also checks its clean exit).
  auto kv = d.connect("kv");
  REQUIRE(kv);
  CHECK(outcome(kv->open(1, 2)) == "opened");
}

TEST_CASE("control socket: mode 0660, removed at shutdown") {
  DaemonRunner d(kDevices, kControlArgs);
  REQUIRE(d.ready());
  struct stat st {};
  REQUIRE(::stat(d.control_socket().c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 07777) == 0660);
  CHECK(d.stop() == 0);
  CHECK(::stat(d.control_socket().c_str(), &st) != 0);
}

TEST_CASE("bentosctl list and status print tables; --json prints the answer; errors exit 1 or 2") {
  DaemonRunner d(kDevices, kControlArgs);
  REQUIRE(d.ready());
  const std::string sock = d.control_socket();
  std::string out;
  REQUIRE(run_program({bentosctl_path(), "list", "--control-socket", sock}, out) == 0);
  CHECK(contains(out, "NAME"));
  CHECK(contains(out, "DEVICE_PATH"));
  CHECK(contains(out, "/dev/bentos/store"));
  CHECK(contains(out, "unix://" + d.socket("kv")));
  CHECK(contains(out, "write_read"));
  CHECK(contains(out, "kv 1.0.0"));

  REQUIRE(run_program({bentosctl_path(), "list", "hello", "--json", "--control-socket=" + sock}, out) == 0);
  const json listed = json::parse(out);
  CHECK(listed["devices"].size() == 1);

  // The socket from the environment.
  REQUIRE(run_program({"/usr/bin/env", "BENTOS_CONTROL_SOCKET=" + sock, bentosctl_path(), "status"}, out) == 0);
  CHECK(contains(out, "bentos-driver-host "));
  CHECK(contains(out, ", pid "));
  CHECK(contains(out, "devices"));
  CHECK(contains(out, "sessions"));

  // The older spelling still works.
  REQUIRE(run_program({bentosctl_path(), "host", sock, "status", "--json"}, out) == 0);
  CHECK(json::parse(out)["devices"] == 2);

  // ok:false: exit 1 with the daemon's error.
  CHECK(run_program({bentosctl_path(), "stats", "nope", "--control-socket", sock}, out) == 1);
  CHECK(contains(out, "bentosctl: stats: no device 'nope'"));
  // No socket there: exit 2 with what to do.
  CHECK(run_program({bentosctl_path(), "status", "--control-socket", d.dir() + "/missing.sock"}, out) == 2);
  CHECK(contains(out, "no control socket at " + d.dir() + "/missing.sock"));
  CHECK(contains(out, "--control-socket"));
  // Usage errors.
  CHECK(run_program({bentosctl_path(), "status", "extra", "--control-socket", sock}, out) == 2);
  CHECK(run_program({bentosctl_path(), "list", "--frob", "--control-socket", sock}, out) == 2);
  REQUIRE(run_program({bentosctl_path(), "stats", "--help"}, out) == 0);
  CHECK(contains(out, "--control-socket PATH"));
}

TEST_CASE("bentosctl: a control socket the user may not open is 'permission denied', exit 2") {
  if (::geteuid() != 0) return;  // needs root to run bentosctl as another user
  DaemonRunner d(kDevices, kControlArgs);
  REQUIRE(d.ready());
  std::string out;
  // The temporary directory is 0700 root's: let nobody reach the socket itself.
  REQUIRE(::chmod(d.dir().c_str(), 0755) == 0);
  const int status = run_program({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                  bentosctl_path(), "status", "--control-socket", d.control_socket()},
                                 out);
  if (status == 127 || contains(out, "setpriv:")) return;  // no setpriv, or it may not switch here
  CHECK(status == 2);
  CHECK_MESSAGE(contains(out, "permission denied on " + d.control_socket()), out);
}
