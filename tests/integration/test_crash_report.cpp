// A plugin that crashes the whole host (one running in the host's own
// process: issue 14, item 5), against the daemon binary: the host logs one
// line naming the signal and the device whose callback was running, in
// the log's usual format, then dies by that same signal (so systemd's
// Restart= and core dumps see the crash as it was). The crashes come from
// tests/plugins/crasher.c.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "daemon_runner.h"
#include "outcome.h"

using bentos::test::DaemonRunner;
using bentos::test::outcome;

namespace {

constexpr int32_t kRdwr = 2;

// No core files from the crashes these tests cause on purpose: the daemon
// inherits the limit at fork. Restored after the test.
class NoCoreFiles {
 public:
  NoCoreFiles() {
    ::getrlimit(RLIMIT_CORE, &saved_);
    rlimit none = saved_;
    none.rlim_cur = 0;
    ::setrlimit(RLIMIT_CORE, &none);
  }
  ~NoCoreFiles() { ::setrlimit(RLIMIT_CORE, &saved_); }

 private:
  rlimit saved_{};
};

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// The lines of `log` that contain `part`.
std::vector<std::string> lines_with(const std::string& log, const std::string& part) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin < log.size()) {
    size_t end = log.find('\n', begin);
    if (end == std::string::npos) end = log.size();
    const std::string line = log.substr(begin, end - begin);
    if (line.find(part) != std::string::npos) out.push_back(line);
    begin = end + 1;
  }
  return out;
}

std::string crasher_path() { return bentos::test::test_plugin_dir() + "/crasher.so"; }

std::string signal_text(int status) {
  if (status == -1) return "still running";
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "exited with " + std::to_string(WEXITSTATUS(status));
}

// Starts a host with `crashy` (the crasher, `crashy_extra` added to its
// manifest entry) and kv, opens a kv session, sends `command` to crashy
// and returns how the host ended (waitpid status, -1 if it did not) and
// its log.
struct Crash {
  int status = -1;
  std::string log;
  bool kv_lost = false;  // kv's connection, opened before, ended with the host
};

Crash crash_with(const std::string& command, const std::string& crashy_extra = "") {
  Crash crash;
  DaemonRunner d(R"([{"name": "crashy", "plugin": "crasher.so")" + crashy_extra +
                 R"(}, {"name": "kv", "plugin": "kv.so"}])");
  REQUIRE(d.ready());
  auto kv = d.connect("kv");
  REQUIRE(kv);
  REQUIRE(outcome(kv->open(1, kRdwr)) == "opened");
  auto c = d.connect("crashy");
  REQUIRE(c);
  REQUIRE(outcome(c->open(1, kRdwr)) == "opened");
  // The crasher answers before it crashes on nothing else: it is alive.
  REQUIRE(outcome(c->write(1, "hello")) == "wrote 5");
  REQUIRE(outcome(c->read(1, 100)) == "data:ok hello\n");
  REQUIRE(outcome(c->write(1, command)) == "wrote " + std::to_string(command.size()));
  // The read runs the command; its answer never comes unless the host
  // survives (then the status check below fails).
  const std::string answer = outcome(c->read(1, 100, 3000));
  CAPTURE(answer);
  crash.status = d.wait_end(10000);
  crash.kv_lost = kv->wait_closed(2000);
  crash.log = d.log();
  return crash;
}

}  // namespace

TEST_CASE("a plugin's SIGSEGV: one line names the signal and the device, then the host dies by SIGSEGV") {
  NoCoreFiles no_cores;
  const Crash crash = crash_with("segv");
  INFO("log:\n" << crash.log);
  CHECK_MESSAGE(WIFSIGNALED(crash.status), signal_text(crash.status));
  CHECK_MESSAGE((WIFSIGNALED(crash.status) && WTERMSIG(crash.status) == SIGSEGV), signal_text(crash.status));
  const auto lines = lines_with(crash.log, "the host crashed");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] ==
        "error: crashy: the host crashed with SIGSEGV (segmentation fault) in a plugin callback of device 'crashy' "
        "(on_request, plugin " + crasher_path() +
            "); exiting by the same signal so that the service manager restarts the host");
  // In-process, the crash takes every device down with it: what
  // "isolation": "process" is for.
  CHECK(crash.kv_lost);
}

TEST_CASE("a plugin's abort(): one line names SIGABRT and the device, then the host dies by SIGABRT") {
  NoCoreFiles no_cores;
  const Crash crash = crash_with("abort");
  INFO("log:\n" << crash.log);
  CHECK_MESSAGE((WIFSIGNALED(crash.status) && WTERMSIG(crash.status) == SIGABRT), signal_text(crash.status));
  const auto lines = lines_with(crash.log, "the host crashed");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("error: crashy: the host crashed with SIGABRT (aborted) in a plugin callback of device "
                       "'crashy' (on_request, plugin " + crasher_path() + ")",
                       0) == 0);
}

TEST_CASE("a plugin that overflows its stack is still reported (alternate signal stack)") {
  NoCoreFiles no_cores;
  // On the loop thread, and on a host worker thread ("threads": 2), which
  // sets up its own alternate stack.
  for (const char* extra : {"", R"(, "threads": 2)"}) {
    CAPTURE(extra);
    const Crash crash = crash_with("overflow", extra);
    INFO("log:\n" << crash.log);
    CHECK_MESSAGE((WIFSIGNALED(crash.status) && WTERMSIG(crash.status) == SIGSEGV), signal_text(crash.status));
    CHECK(count(crash.log, "error: crashy: the host crashed with SIGSEGV (segmentation fault) in a plugin "
                           "callback of device 'crashy' (on_request, plugin ") == 1);
  }
}

TEST_CASE("a plugin that calls exit(3) ends the host with status 3 and no crash line") {
  const Crash crash = crash_with("exit3");
  INFO("log:\n" << crash.log);
  CHECK_MESSAGE((WIFEXITED(crash.status) && WEXITSTATUS(crash.status) == 3), signal_text(crash.status));
  CHECK(crash.log.find("crashed") == std::string::npos);
}

TEST_CASE("a fatal signal while no plugin code runs says so, and who sent it") {
  NoCoreFiles no_cores;
  DaemonRunner d(R"([{"name": "crashy", "plugin": "crasher.so"}])");
  REQUIRE(d.ready());
  REQUIRE(d.signal(SIGSEGV));  // as a watchdog or an operator would
  const int status = d.wait_end(10000);
  const std::string log = d.log();
  INFO("log:\n" << log);
  CHECK_MESSAGE((WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV), signal_text(status));
  CHECK(count(log, "error: the host was killed with SIGSEGV (segmentation fault, sent by process " +
                       std::to_string(::getpid()) +
                       ") while no plugin callback was running on the crashing thread") == 1);
}

TEST_CASE("systemd's watchdog SIGABRT while a callback spins on the loop names the device that hangs it") {
  NoCoreFiles no_cores;
  DaemonRunner d(R"([{"name": "crashy", "plugin": "crasher.so"}])");
  REQUIRE(d.ready());
  auto c = d.connect("crashy");
  REQUIRE(c);
  REQUIRE(outcome(c->open(1, kRdwr)) == "opened");
  REQUIRE(outcome(c->write(1, "spin")) == "wrote 4");
  bentos::wire::Request read;
  read.fh = 1;
  read.kind = bentos::wire::OpKind::read;
  read.size = 100;
  c->send(std::move(read));  // answered never: the callback spins
  // The loop thread is the main thread, where the kernel delivers a
  // signal sent to the process (as WatchdogSec= sends SIGABRT).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  REQUIRE(d.signal(SIGABRT));
  const int status = d.wait_end(10000);
  const std::string log = d.log();
  INFO("log:\n" << log);
  CHECK_MESSAGE((WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT), signal_text(status));
  CHECK(count(log, "error: crashy: the host was killed with SIGABRT (aborted, sent by process " +
                       std::to_string(::getpid()) + ") in a plugin callback of device 'crashy' (on_request, plugin " +
                       crasher_path() + ")") == 1);
}

TEST_CASE("an isolated device's crash is reported by its own process, and the host goes on") {
  NoCoreFiles no_cores;
  DaemonRunner d(R"([{"name": "crashy", "plugin": "crasher.so", "isolation": "process"},
                     {"name": "kv", "plugin": "kv.so"}])");
  REQUIRE(d.ready());
  auto c = d.connect("crashy");
  REQUIRE(c);
  REQUIRE(outcome(c->open(1, kRdwr)) == "opened");
  REQUIRE(outcome(c->write(1, "segv")) == "wrote 4");
  CHECK(!c->read(1, 100, 3000));  // the child died with the call
  CHECK(d.wait_for_log("error: crashy: the device's isolated process crashed with SIGSEGV (segmentation fault) in "
                       "a plugin callback of device 'crashy' (on_request, plugin " + crasher_path() +
                       "); exiting by the same signal so that the host restarts this device"));
  CHECK(d.wait_end(300) == -1);  // the host itself keeps running
  auto kv = d.connect("kv");
  REQUIRE(kv);
  CHECK(outcome(kv->open(1, kRdwr)) == "opened");
  INFO("log:\n" << d.log());
  CHECK(d.log().find("the host crashed") == std::string::npos);
}  // and stops cleanly (the runner checks exit 0)

TEST_CASE("a plugin that crashes in create() under --check names the device and create") {
  NoCoreFiles no_cores;
  const std::string dir = bentos::test::make_temp_dir("bentos-crash");
  bentos::test::write_text(dir + "/devices.json", R"({"devices": [
    {"name": "crashy", "plugin": "crasher.so", "config": {"crash_at_create": "abort"}}]})");
  std::vector<std::string> args = {"--check", "--config", dir + "/devices.json", "--plugin-dir",
                                   bentos::test::test_plugin_dir()};
  for (const auto& a : bentos::test::trust_args()) args.push_back(a);
  std::string out;
  const int status = bentos::test::run_daemon_once(args, out);
  bentos::test::remove_tree(dir);
  INFO("output:\n" << out);
  CHECK(status == 128 + SIGABRT);
  CHECK(count(out, "error: crashy: the host crashed with SIGABRT (aborted) in a plugin callback of device "
                   "'crashy' (create, plugin " + crasher_path() + ")") == 1);
}
