// Fault isolation (issue 14) against the daemon binary: a device with
// "isolation": "process" runs in a supervised child. Its crash (a signal,
// an exit, a hung loop) costs only its own connections; the parent keeps
// its socket, so the device serves again within a second and a client that
// connects in between waits instead of being refused; the control socket
// reports restarts and how the child ended; crash loops back off; reload
// and SIGTERM handle children; --check loads isolated plugins in a child.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "control_connection.h"
#include "daemon_runner.h"
#include "outcome.h"
#include "prom_text.h"

using bentos::test::DaemonRunner;
using bentos::test::outcome;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int32_t kRdwr = 2;
const std::vector<std::string> kControl = {"--control-socket", "@DIR@/control.sock"};

// kv in the host's process beside crashy, the crasher plugin in a child.
// A short watchdog, so a spinning child is found quickly.
std::string manifest(const std::string& crashy_extra = "", int watchdog_ms = 400) {
  return R"([{"name": "kv", "plugin": "kv.so"},
             {"name": "crashy", "plugin": "crasher.so", "isolation": "process", "watchdog_ms": )" +
         std::to_string(watchdog_ms) + crashy_extra + "}]";
}

nlohmann::json control(const DaemonRunner& d, const std::string& request) {
  bentos::test::ControlConnection c(d.control_socket());
  REQUIRE(c.connected());
  REQUIRE(c.send_raw(request + "\n"));
  return nlohmann::json::parse(c.read_line(), nullptr, false);
}

// The isolated row of `status` for `name` (null when absent).
nlohmann::json isolated_status(const DaemonRunner& d, const std::string& name) {
  const auto status = control(d, R"({"command": "status"})");
  for (const auto& row : status.value("isolated", nlohmann::json::array()))
    if (row.value("name", "") == name) return row;
  return nullptr;
}

// Sends one command to crasher on a fresh connection: its answer, or ""
// when the connection ended without one.
std::string ask(const DaemonRunner& d, const std::string& device, const std::string& command, int timeout_ms = 5000) {
  auto c = d.connect(device);
  if (!c) return "";
  if (outcome(c->open(1, kRdwr, timeout_ms)) != "opened") return "";
  if (outcome(c->write(1, command, timeout_ms)).rfind("wrote", 0) != 0) return "";
  const auto reply = c->read(1, 4096, timeout_ms);
  if (!reply || reply->err != 0) return "";
  return reply->payload();
}

// Waits until `done` holds, up to `timeout`; true if it did.
template <typename F>
bool eventually(F done, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

bool process_exists(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

std::string proc_status_line(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) return line;
  return "";
}

long rss_kib(pid_t pid) {
  const std::string line = proc_status_line(pid, "VmRSS");
  return line.empty() ? -1 : std::stol(line.substr(6));
}

}  // namespace

TEST_CASE("an isolated device runs in its own process and serves its socket") {
  DaemonRunner d(manifest(), kControl);
  REQUIRE(d.ready());
  const std::string pid_text = ask(d, "crashy", "pid");
  REQUIRE(!pid_text.empty());
  const pid_t child = std::stoi(pid_text);
  CHECK(child != d.pid());
  CHECK(proc_status_line(child, "PPid") == "PPid:\t" + std::to_string(d.pid()));
  // Never more privileges than it started with.
  CHECK(proc_status_line(child, "NoNewPrivs") == "NoNewPrivs:\t1");
  const auto row = isolated_status(d, "crashy");
  CHECK(row.value("state", "") == "running");
  CHECK(row.value("pid", 0) == child);
  CHECK(row.value("restarts", -1) == 0);
  // list and stats show it like the others, with where it runs.
  const auto list = control(d, R"({"command": "list", "device": "crashy"})");
  REQUIRE(list.value("ok", false));
  CHECK(list["devices"][0].value("pattern", "") == "write_read");
  CHECK(list["devices"][0].value("isolation", "") == "process");
  const auto stats = control(d, R"({"command": "stats", "device": "crashy"})");
  REQUIRE(stats.value("ok", false));
  CHECK(stats["devices"][0].value("sessions_opened", 0) == 1);  // counted in the child
  CHECK(control(d, R"({"command": "list", "device": "kv"})")["devices"][0].value("isolation", "") == "in-process");
}

TEST_CASE("metrics merge each child's device families into the host's exposition") {
  DaemonRunner d(manifest(), kControl);
  REQUIRE(d.ready());
  REQUIRE(!ask(d, "crashy", "hello").empty());
  const auto answer = control(d, R"({"command": "metrics"})");
  REQUIRE(answer.value("ok", false));
  const std::string text = answer.value("text", "");
  bentos::test::prom::Exposition e;
  std::string error;
  REQUIRE_MESSAGE(bentos::test::prom::parse(text, e, error), error);
  CHECK(bentos::test::prom::check_histograms(e) == "");
  CHECK(bentos::test::prom::check_naming(e, "bentos_") == "");
  const auto value = [&e](const std::string& family, const std::map<std::string, std::string>& labels) {
    const auto* f = e.family(family);
    if (!f) return -1.0;
    for (const auto& s : f->samples)
      if (s.name == family && s.labels == labels) return s.value;
    return -1.0;
  };
  CHECK(value("bentos_devices", {}) == 2);
  // Counted in the child, reported by the host; both devices in one family.
  CHECK(value("bentos_device_sessions_opened_total", {{"device", "crashy"}}) == 1);
  CHECK(value("bentos_device_sessions_opened_total", {{"device", "kv"}}) == 0);
  CHECK(value("bentos_device_restarts_total", {{"device", "crashy"}}) == 0);
  CHECK(value("bentos_device_child_up", {{"device", "crashy"}}) == 1);
}

TEST_CASE("a crashing isolated device restarts within a second; the others never notice") {
  for (const std::string how : {"segv", "abort", "exit3", "spin"}) {
    CAPTURE(how);
    DaemonRunner d(manifest(), kControl);
    REQUIRE(d.ready());
    auto kv = d.connect("kv");
    REQUIRE(kv);
    REQUIRE(outcome(kv->open(1, kRdwr)) == "opened");
    REQUIRE(outcome(kv->write(1, "k=v")) == "wrote 3");
    REQUIRE(outcome(kv->read(1, 100)) == "data:OK\n");
    const pid_t first = std::stoi(ask(d, "crashy", "pid"));

    auto victim = d.connect("crashy");
    REQUIRE(victim);
    REQUIRE(outcome(victim->open(1, kRdwr)) == "opened");
    REQUIRE(outcome(victim->write(1, how)) == "wrote " + std::to_string(how.size()));
    // The dead child's connections close: the client sees EOF, no answer.
    CHECK(!victim->read(1, 100, 3000));
    CHECK(victim->wait_closed(3000));
    const auto crashed = Clock::now();

    // In the gap before the next child starts: accepted, waits, served.
    const std::string answer = ask(d, "crashy", "pid");
    const auto served = Clock::now();
    REQUIRE(!answer.empty());
    CHECK(std::stoi(answer) != first);
    CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(served - crashed).count() < 1000);

    // kv's connection from before the crash answers throughout.
    CHECK(outcome(kv->write(1, "k=w")) == "wrote 3");
    CHECK(outcome(kv->read(1, 100)) == "data:OK\n");

    const auto row = isolated_status(d, "crashy");
    CHECK(row.value("restarts", -1) == 1);
    const std::string last_exit = row.value("last_exit", "");
    if (how == "segv") CHECK(last_exit.find("signal SIGSEGV") != std::string::npos);
    if (how == "abort") CHECK(last_exit.find("signal SIGABRT") != std::string::npos);
    if (how == "exit3") CHECK(last_exit == "exit status 3");
    if (how == "spin") CHECK(last_exit.find("watchdog") != std::string::npos);
    CHECK(d.log().find("child process " + std::to_string(first)) != std::string::npos);
  }
}

TEST_CASE("a crash loop backs off and shows crash-looping; a fixed manifest and a reload recover it") {
  DaemonRunner d(manifest(R"(, "config": {"crash_at_create": "exit3"})"), kControl);
  REQUIRE(d.ready());
  std::this_thread::sleep_for(std::chrono::seconds(7));
  // 100 ms doubling: starts at 0, 0.1, 0.3, 0.7, 1.5, 3.1, 6.3 s.
  const auto log = d.log();
  size_t starts = 0;
  for (size_t at = log.find("failed to start"); at != std::string::npos; at = log.find("failed to start", at + 1))
    ++starts;
  CHECK(starts >= 5);
  CHECK(starts <= 8);
  auto row = isolated_status(d, "crashy");
  CHECK(row.value("state", "") == "crash-looping");
  CHECK(row.value("last_exit", "") == "exit status 3");

  bentos::test::write_text(d.dir() + "/devices.json", "{\"devices\": " + manifest() + "}\n");
  const auto reload = control(d, R"({"command": "reload"})");
  CHECK(reload.value("ok", false));
  CHECK(reload["restarted"] == nlohmann::json::array({"crashy"}));
  CHECK(!ask(d, "crashy", "hello").empty());
  row = isolated_status(d, "crashy");
  CHECK(row.value("state", "") == "running");
  CHECK(row.value("restarts", -1) == 0);
}

TEST_CASE("a reload keeps an unchanged isolated device's child and replaces a changed one's") {
  DaemonRunner d(manifest(), kControl);
  REQUIRE(d.ready());
  const pid_t before = std::stoi(ask(d, "crashy", "pid"));
  auto kept = d.connect("crashy");
  REQUIRE(kept);
  REQUIRE(outcome(kept->open(1, kRdwr)) == "opened");
  auto reload = control(d, R"({"command": "reload"})");
  CHECK(reload["unchanged"].dump().find("crashy") != std::string::npos);
  // Same child, same session.
  CHECK(outcome(kept->write(1, "pid")) == "wrote 3");
  CHECK(outcome(kept->read(1, 100)) == "data:" + std::to_string(before) + "\n");

  bentos::test::write_text(d.dir() + "/devices.json",
                           "{\"devices\": " + manifest(R"(, "config": {"note": "changed"})") + "}\n");
  reload = control(d, R"({"command": "reload"})");
  CHECK(reload["restarted"] == nlohmann::json::array({"crashy"}));
  CHECK(kept->wait_closed(3000));
  const std::string after = ask(d, "crashy", "pid");
  REQUIRE(!after.empty());
  CHECK(std::stoi(after) != before);
  CHECK(!process_exists(before));
}

TEST_CASE("SIGTERM stops every child, then the host; no socket file is left") {
  auto d = std::make_unique<DaemonRunner>(manifest(), kControl);
  REQUIRE(d->ready());
  const pid_t child = std::stoi(ask(*d, "crashy", "pid"));
  const std::string socket = d->socket("crashy");
  struct stat st {};
  REQUIRE(::stat(socket.c_str(), &st) == 0);
  CHECK(d->stop() == 0);
  CHECK(!process_exists(child));
  CHECK(::stat(socket.c_str(), &st) != 0);
  CHECK(::stat(d->socket("kv").c_str(), &st) != 0);
}

TEST_CASE("an isolated device's memory limit holds in the child; the host's memory does not grow") {
#if defined(__SANITIZE_ADDRESS__)
  MESSAGE("SKIPPED: AddressSanitizer reserves terabytes of address space at start, so no child can run under "
          "RLIMIT_AS; the normal build runs this test");
  return;
#endif
  // Touching 64 MiB blocks the child's loop for a while: no watchdog kill here.
  DaemonRunner d(manifest(R"(, "limits": {"memory_bytes": 268435456})", 10000), kControl);
  REQUIRE(d.ready());
  const long host_before = rss_kib(d.pid());
  // Beyond RLIMIT_AS an allocation fails in the child, not in the host.
  CHECK(ask(d, "crashy", "alloc 512") == "error alloc 512\n");
  CHECK(ask(d, "crashy", "alloc 64") == "ok alloc 64\n");
  const long host_after = rss_kib(d.pid());
  MESSAGE("host RSS " << host_before << " KiB before, " << host_after << " KiB after 64 MiB held in the child");
  CHECK(host_after - host_before < 16 * 1024);
  const pid_t child = std::stoi(ask(d, "crashy", "pid"));
  CHECK(rss_kib(child) >= 64 * 1024);
}

TEST_CASE("an isolated device with \"user\": \"nobody\" runs as nobody and still serves its socket") {
  if (::geteuid() != 0) {
    MESSAGE("SKIPPED: switching a child to another user needs root; this test runs as uid " << ::geteuid());
    return;
  }
  DaemonRunner d(manifest(R"(, "user": "nobody")"), kControl);
  REQUIRE(d.ready());
  const std::string uid = ask(d, "crashy", "uid");
  if (uid.empty()) {
    const auto row = isolated_status(d, "crashy");
    FAIL("the child as nobody did not serve: " << row.dump() << "\n" << d.log());
  }
  CHECK(uid == "65534\n");
  const pid_t child = std::stoi(ask(d, "crashy", "pid"));
  CHECK(proc_status_line(child, "Uid").find("65534\t65534\t65534\t65534") != std::string::npos);
}

TEST_CASE("--check loads an isolated plugin in a child: a crash while loading fails the check, not --check") {
  const std::string dir = bentos::test::make_temp_dir("bentos-isolation-check");
  bentos::test::write_text(dir + "/devices.json", R"({"devices": [
    {"name": "kv", "plugin": "kv.so"},
    {"name": "crashy", "plugin": "crasher.so", "isolation": "process", "config": {"crash_at_create": "segv"}}]})");
  std::vector<std::string> args = {"--check", "--config", dir + "/devices.json", "--plugin-dir",
                                   bentos::test::plugin_dir(), "--plugin-dir", bentos::test::test_plugin_dir()};
  for (const auto& a : bentos::test::trust_args()) args.push_back(a);
  std::string out;
  CHECK(bentos::test::run_daemon_once(args, out) == 78);
  CHECK(out.find("ok: device 'kv'") != std::string::npos);
  CHECK(out.find("device 'crashy'") != std::string::npos);
  CHECK(out.find("signal SIGSEGV") != std::string::npos);
  bentos::test::write_text(dir + "/devices.json", R"({"devices": [
    {"name": "crashy", "plugin": "crasher.so", "isolation": "process"}]})");
  CHECK(bentos::test::run_daemon_once(args, out) == 0);
  CHECK(out.find("checked in a child process") != std::string::npos);
  bentos::test::remove_tree(dir);
}
