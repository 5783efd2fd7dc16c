// The crash report's parts that can be checked without dying: the line it
// writes (daemon/crash_report.h), the per-thread mark of the running
// plugin call (loop/running_plugin.h, set by PluginGuard::run) and the
// alternate signal stack (loop/signal_stack.h). The deaths themselves are
// in tests/integration/test_crash_report.cpp.
#include <doctest/doctest.h>

#include <signal.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <thread>

#include "daemon/crash_report.h"
#include "loop/plugin_guard.h"
#include "loop/running_plugin.h"
#include "loop/signal_stack.h"

namespace {

std::string line_for(int signum, pid_t sender, const bentos::loop::PluginCallSite* site, bool journal = false,
                     size_t capacity = 1536, bool isolated_child = false) {
  std::string out(capacity, '\0');
  out.resize(bentos::daemon::format_crash_line(out.data(), capacity, signum, sender, site, journal, isolated_child));
  return out;
}

constexpr const char* kTail = "; exiting by the same signal so that the service manager restarts the host\n";

}  // namespace

TEST_CASE("the crash line names the signal, the device, the callback and the plugin file") {
  const bentos::loop::PluginCallSite site{"kv", "/usr/lib/bentos/plugins/kv.so", "on_request"};
  CHECK(line_for(SIGSEGV, 0, &site) ==
        std::string("error: kv: the host crashed with SIGSEGV (segmentation fault) in a plugin callback of device "
                    "'kv' (on_request, plugin /usr/lib/bentos/plugins/kv.so)") + kTail);
  const bentos::loop::PluginCallSite no_file{"kv", nullptr, "a timer callback"};
  CHECK(line_for(SIGBUS, 0, &no_file) ==
        std::string("error: kv: the host crashed with SIGBUS (bus error) in a plugin callback of device 'kv' "
                    "(a timer callback)") + kTail);
}

TEST_CASE("the crash line for each caught signal, and for one it does not know") {
  CHECK(line_for(SIGFPE, 0, nullptr).find("with SIGFPE (arithmetic exception) ") != std::string::npos);
  CHECK(line_for(SIGILL, 0, nullptr).find("with SIGILL (illegal instruction) ") != std::string::npos);
  CHECK(line_for(SIGABRT, 0, nullptr).find("with SIGABRT (aborted) ") != std::string::npos);
  CHECK(line_for(SIGUSR1, 0, nullptr).find("with signal " + std::to_string(SIGUSR1) + " (fatal signal) ") !=
        std::string::npos);
}

TEST_CASE("the crash line without a plugin call, while loading a file, and for a signal sent by another process") {
  CHECK(line_for(SIGSEGV, 0, nullptr) ==
        std::string("error: the host crashed with SIGSEGV (segmentation fault) while no plugin callback was "
                    "running on the crashing thread (the host itself, or a thread a plugin started)") + kTail);
  const bentos::loop::PluginCallSite loading{nullptr, "/p/bad.so", "loading the file"};
  CHECK(line_for(SIGSEGV, 0, &loading) ==
        std::string("error: the host crashed with SIGSEGV (segmentation fault) in plugin /p/bad.so (loading the "
                    "file)") + kTail);
  const bentos::loop::PluginCallSite site{"llm", "/p/llm.so", "on_request"};
  CHECK(line_for(SIGABRT, 4321, &site).rfind(
            "error: llm: the host was killed with SIGABRT (aborted, sent by process 4321) in a plugin callback", 0) ==
        0);
}

TEST_CASE("an isolated device's child says that only it goes, and that the host restarts it") {
  const bentos::loop::PluginCallSite site{"crashy", "/p/crasher.so", "on_request"};
  CHECK(line_for(SIGSEGV, 0, &site, false, 1536, /*isolated_child=*/true) ==
        "error: crashy: the device's isolated process crashed with SIGSEGV (segmentation fault) in a plugin "
        "callback of device 'crashy' (on_request, plugin /p/crasher.so); exiting by the same signal so that the "
        "host restarts this device\n");
}

TEST_CASE("under journald the crash line carries the error priority, like every log line") {
  CHECK(line_for(SIGSEGV, 0, nullptr, /*journal=*/true).rfind("<3>error: the host crashed with SIGSEGV", 0) == 0);
}

TEST_CASE("a crash line longer than its buffer is cut and still ends the line") {
  const std::string long_name(4000, 'd');
  const bentos::loop::PluginCallSite site{long_name.c_str(), "/p/x.so", "on_request"};
  const std::string line = line_for(SIGSEGV, 0, &site, false, 200);
  CHECK(line.size() == 200);
  CHECK(line.rfind("error: ddd", 0) == 0);
  CHECK(line.back() == '\n');
  CHECK(line.find('\0') == std::string::npos);
}

TEST_CASE("PluginGuard::run marks its thread with the device, the call and the file, and unmarks it after") {
  using bentos::loop::running_plugin;
  REQUIRE(running_plugin == nullptr);
  bentos::loop::PluginGuard outer("crashy", "/p/crasher.so");
  bentos::loop::PluginGuard inner("kv");
  std::string seen_outer, seen_inner, seen_after_inner, seen_other_thread = "unset";
  outer.run("on_request", [&] {
    REQUIRE(running_plugin != nullptr);
    seen_outer = std::string(running_plugin->device) + "|" + running_plugin->plugin + "|" + running_plugin->what;
    // A nested call marks its own device, then gives the outer mark back.
    inner.run("a post() task", [&] {
      seen_inner = std::string(running_plugin->device) + "|" + (running_plugin->plugin ? "file" : "no file") + "|" +
                   running_plugin->what;
    });
    seen_after_inner = running_plugin ? running_plugin->device : "none";
    // Other threads have marks of their own.
    std::thread([&] { seen_other_thread = running_plugin ? running_plugin->device : "none"; }).join();
  });
  CHECK(seen_outer == "crashy|/p/crasher.so|on_request");
  CHECK(seen_inner == "kv|no file|a post() task");
  CHECK(seen_after_inner == "crashy");
  CHECK(seen_other_thread == "none");
  CHECK(running_plugin == nullptr);
  // An exception the guard catches unmarks the thread too.
  CHECK(outer.run("on_request", []() -> int { throw std::runtime_error("boom"); }) == -EIO);
  CHECK(running_plugin == nullptr);
}

TEST_CASE("a SignalStack is this thread's alternate signal stack while it lives") {
  std::thread([] {
    stack_t before{};
    REQUIRE(sigaltstack(nullptr, &before) == 0);
    {
      const bentos::loop::SignalStack stack;
      REQUIRE(stack.active());
      stack_t now{};
      REQUIRE(sigaltstack(nullptr, &now) == 0);
      CHECK((now.ss_flags & SS_DISABLE) == 0);
      CHECK(now.ss_size == bentos::loop::SignalStack::size());
      CHECK(now.ss_size >= 64 * 1024);
    }
    stack_t after{};
    REQUIRE(sigaltstack(nullptr, &after) == 0);
    CHECK((after.ss_flags & SS_DISABLE) != 0);
  }).join();
}
