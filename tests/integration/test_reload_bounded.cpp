// A reload never stalls the devices it does not touch, and is bounded
// (issue 12, item 7): plugin create() and destroy() run off the loop,
// each within host.lifecycle_timeout_ms; the control socket answers
// `reload` when every step finished or was given up on, and the rest of
// the host keeps serving meanwhile. Timings are generous bounds (answered
// within 2 s while a hook sleeps 5 s), not measurements.
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "control_connection.h"
#include "daemon_runner.h"
#include "outcome.h"

using bentos::test::ControlConnection;
using bentos::test::DaemonRunner;
using bentos::test::outcome;
using Clock = std::chrono::steady_clock;

namespace {

const char kControl[] = "@DIR@/control.sock";

void write_manifest(const DaemonRunner& d, const std::string& body) {
  bentos::test::write_text(d.dir() + "/devices.json", body + "\n");
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string text(const nlohmann::json& errors) {
  std::string all;
  for (const auto& e : errors) all += e.get<std::string>() + "\n";
  return all;
}

}  // namespace

TEST_CASE("a reload waiting for a slow destroy: other devices, new connections and status answer meanwhile") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"},
                     {"name": "slow", "plugin": "hang_destroy.so", "config": {"hang_ms": 5000, "create_posts": 1}}])",
                 {"--control-socket", kControl});
  REQUIRE(d.ready());
  // At startup create() runs on the loop; what it posted runs after it.
  CHECK(d.wait_for_log("slow: posted task ran after create returned"));
  CHECK(d.wait_for_log("slow: timer ran after create returned"));
  auto kv = d.connect("kv");
  REQUIRE(kv);
  CHECK(outcome(kv->open(1, 2)) == "opened");

  // slow's config changes: it restarts, and its old instance's destroy
  // sleeps 5 s.
  write_manifest(d, R"({"devices": [{"name": "kv", "plugin": "kv.so"},
                                    {"name": "slow", "plugin": "hang_destroy.so", "config": {"hang_ms": 0}}]})");
  ControlConnection reloading(d.control_socket());
  REQUIRE(reloading.connected());
  const auto reload_sent = Clock::now();
  REQUIRE(reloading.send_raw("reload\n"));
  // The reload has begun once slow's socket is gone (its network side stops at once).
  for (int i = 0; i < 100 && std::filesystem::exists(d.socket("slow")); ++i) usleep(20000);
  CHECK_FALSE(std::filesystem::exists(d.socket("slow")));

  auto start = Clock::now();
  CHECK(outcome(kv->write(1, "k=v")) == "wrote 3");  // an open connection
  CHECK(seconds_since(start) < 2.0);
  start = Clock::now();
  auto kv2 = d.connect("kv");  // a new connection
  REQUIRE(kv2);
  CHECK(outcome(kv2->open(7, 2)) == "opened");
  CHECK(seconds_since(start) < 2.0);
  start = Clock::now();
  const auto status = bentos::test::ask_control(d.control_socket(), {{"command", "status"}});
  CHECK(status["ok"] == true);
  CHECK(status["devices"] == 1);  // slow is between its two instances
  CHECK(seconds_since(start) < 2.0);

  // The reload itself answers once the destroy and the new create are done.
  const auto report = nlohmann::json::parse(reloading.read_line(15000), nullptr, false);
  REQUIRE(report.is_object());
  CHECK(seconds_since(reload_sent) > 3.0);  // it did wait for the destroy
  CHECK(report["ok"] == true);
  CHECK(report["restarted"] == nlohmann::json::array({"slow"}));
  CHECK(report["unchanged"] == nlohmann::json::array({"kv"}));
  auto slow = d.connect("slow");
  REQUIRE(slow);
  CHECK(outcome(slow->open(1, 2)) == "opened");
  CHECK(outcome(kv->read(1, 100)) == "data:OK\n");  // kv kept its session
  CHECK(d.stop() == 0);
}

TEST_CASE("SIGHUP: a slow create does not stall the other devices; the report is logged when done") {
  // Its create() also posts a task and starts a timer before it sleeps:
  // off the loop, the host holds them until create() returned.
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"}])", {"--control-socket", kControl});
  REQUIRE(d.ready());
  auto kv = d.connect("kv");
  REQUIRE(kv);
  CHECK(outcome(kv->open(1, 2)) == "opened");
  write_manifest(d, R"({"devices": [{"name": "kv", "plugin": "kv.so"},
                                    {"name": "slow", "plugin": "hang_destroy.so",
                                     "config": {"create_hang_ms": 5000, "create_posts": 1}}]})");
  REQUIRE(d.signal(SIGHUP));
  REQUIRE(d.wait_for_log("received SIGHUP"));
  usleep(200000);  // into slow's create
  auto start = Clock::now();
  CHECK(outcome(kv->write(1, "k=v")) == "wrote 3");
  auto kv2 = d.connect("kv");
  REQUIRE(kv2);
  CHECK(outcome(kv2->open(7, 2)) == "opened");
  CHECK(bentos::test::ask_control(d.control_socket(), {{"command", "status"}})["ok"] == true);
  CHECK(seconds_since(start) < 2.0);
  CHECK(d.log().find("reload: added") == std::string::npos);  // still creating
  CHECK(d.wait_for_log("reload: added slow; removed none; restarted none; unchanged kv", 15000));
  CHECK(d.wait_for_log("slow: posted task ran after create returned"));
  CHECK(d.wait_for_log("slow: timer ran after create returned"));
  CHECK(d.log().find("ran before create returned") == std::string::npos);
  auto slow = d.connect("slow");
  REQUIRE(slow);
  CHECK(outcome(slow->open(1, 2)) == "opened");
  CHECK(d.stop() == 0);
}

TEST_CASE("a create past lifecycle_timeout_ms: the reload says so, the others serve, the host exits 0") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"}, {"name": "slow", "plugin": "hang_destroy.so"}])",
                 {"--control-socket", kControl});
  REQUIRE(d.ready());
  auto kv = d.connect("kv");
  REQUIRE(kv);
  CHECK(outcome(kv->open(1, 2)) == "opened");
  write_manifest(d, R"({"host": {"lifecycle_timeout_ms": 300},
                        "devices": [{"name": "kv", "plugin": "kv.so"},
                                    {"name": "slow", "plugin": "hang_destroy.so", "config": {"create_hang_ms": 3000}}]})");
  ControlConnection control(d.control_socket());
  REQUIRE(control.connected());
  const auto start = Clock::now();
  const auto report = control.ask(R"({"command": "reload", "id": 5})");
  REQUIRE(report.is_object());
  CHECK(seconds_since(start) < 2.5);  // the bound (0.3 s) and slack, not the 3 s hang
  CHECK(report["ok"] == false);
  CHECK(report["id"] == 5);
  CHECK(report["restarted"] == nlohmann::json::array({"slow"}));
  REQUIRE(report["errors"].size() == 1);
  CHECK_MESSAGE(report["errors"][0] == "device 'slow': plugin create did not finish within 300 ms", text(report["errors"]));
  CHECK(d.wait_for_log("slow: plugin create did not finish within 300 ms"));

  CHECK(outcome(kv->write(1, "k=v")) == "wrote 3");
  auto kv2 = d.connect("kv");
  REQUIRE(kv2);
  CHECK(outcome(kv2->open(7, 2)) == "opened");
  const auto status = control.ask("status");
  CHECK(status["devices"] == 1);  // slow is reported failed, not half there

  // The create that returns late has its instance destroyed at once.
  CHECK(d.wait_for_log("device 'slow': plugin create finished", 6000));
  CHECK(d.wait_for_log("the instance it made was destroyed"));
  CHECK(d.stop() == 0);
}

TEST_CASE("a destroy past lifecycle_timeout_ms: not restarted beside it, and started once it returned") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"},
                     {"name": "slow", "plugin": "hang_destroy.so", "config": {"hang_ms": 2500}}])",
                 {"--control-socket", kControl});
  REQUIRE(d.ready());
  const std::string changed = R"({"host": {"lifecycle_timeout_ms": 300},
                        "devices": [{"name": "kv", "plugin": "kv.so"},
                                    {"name": "slow", "plugin": "hang_destroy.so", "config": {"hang_ms": 0}}]})";
  write_manifest(d, changed);
  ControlConnection control(d.control_socket());
  REQUIRE(control.connected());
  auto start = Clock::now();
  auto report = control.ask("reload");
  REQUIRE(report.is_object());
  CHECK(seconds_since(start) < 2.0);
  CHECK(report["ok"] == false);
  REQUIRE(report["errors"].size() == 1);
  CHECK_MESSAGE(report["errors"][0] ==
                    "device 'slow': plugin destroy did not finish within 300 ms; the device was not started again",
                text(report["errors"]));
  auto kv = d.connect("kv");
  REQUIRE(kv);
  CHECK(outcome(kv->open(1, 2)) == "opened");

  // Its old destroy still runs: a second reload does not start it beside.
  report = control.ask("reload");
  REQUIRE(report.is_object());
  CHECK(report["ok"] == false);
  CHECK_MESSAGE(text(report["errors"]).find("device 'slow': its plugin destroy from an earlier reload is still "
                                            "running; not started") != std::string::npos,
                text(report["errors"]));

  // Once it returned, the next reload starts it.
  REQUIRE(d.wait_for_log("device 'slow': plugin destroy finished", 6000));
  report = control.ask("reload");
  CHECK_MESSAGE(report["ok"] == true, report.dump());
  CHECK(report["added"] == nlohmann::json::array({"slow"}));
  auto slow = d.connect("slow");
  REQUIRE(slow);
  CHECK(outcome(slow->open(1, 2)) == "opened");
  CHECK(d.stop() == 0);
}

TEST_CASE("reloads asked for while one runs queue; answers keep their order on a connection") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"},
                     {"name": "slow", "plugin": "hang_destroy.so", "config": {"hang_ms": 1500}}])",
                 {"--control-socket", kControl});
  REQUIRE(d.ready());
  write_manifest(d, R"({"devices": [{"name": "kv", "plugin": "kv.so"}]})");
  ControlConnection first(d.control_socket()), second(d.control_socket());
  REQUIRE(first.connected());
  REQUIRE(second.connected());
  // One line asks for a reload and then the device list: the list waits
  // for the reload, so it shows its result.
  REQUIRE(first.send_raw("reload\n{\"command\": \"list\", \"id\": 2}\n"));
  for (int i = 0; i < 100 && std::filesystem::exists(d.socket("slow")); ++i) usleep(20000);
  REQUIRE(second.send_raw("reload\n"));
  CHECK(d.wait_for_log("another reload is running"));

  const auto a = nlohmann::json::parse(first.read_line(10000), nullptr, false);
  REQUIRE(a.is_object());
  CHECK(a["ok"] == true);
  CHECK(a["removed"] == nlohmann::json::array({"slow"}));
  const auto list = nlohmann::json::parse(first.read_line(), nullptr, false);
  REQUIRE(list.is_object());
  CHECK(list["id"] == 2);
  CHECK(list["devices"].size() == 1);
  // The queued one ran after it, against the same manifests: nothing left to change.
  const auto b = nlohmann::json::parse(second.read_line(10000), nullptr, false);
  REQUIRE(b.is_object());
  CHECK(b["ok"] == true);
  CHECK(b["removed"].empty());
  CHECK(b["unchanged"] == nlohmann::json::array({"kv"}));
  CHECK(d.stop() == 0);
}

TEST_CASE("SIGTERM during a reload: the waiting client just loses its answer and the host exits 0") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"},
                     {"name": "slow", "plugin": "hang_destroy.so", "config": {"hang_ms": 2000}}])",
                 {"--control-socket", kControl});
  REQUIRE(d.ready());
  write_manifest(d, R"({"devices": [{"name": "kv", "plugin": "kv.so"},
                                    {"name": "slow", "plugin": "hang_destroy.so", "config": {"create_hang_ms": 1}}]})");
  ControlConnection control(d.control_socket());
  REQUIRE(control.connected());
  REQUIRE(control.send_raw("reload\n"));
  for (int i = 0; i < 100 && std::filesystem::exists(d.socket("slow")); ++i) usleep(20000);
  usleep(200000);
  const auto start = Clock::now();
  CHECK(d.stop() == 0);
  CHECK(seconds_since(start) < 8.0);  // the destroy (2 s) may finish, within the shutdown bound
  CHECK(control.read_line(1000).empty());
  CHECK_MESSAGE(d.log().find("did not stop") == std::string::npos, d.log());
}
