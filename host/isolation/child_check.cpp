#include "isolation/child_check.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "isolation/child_process.h"
#include "isolation/child_setup.h"

namespace bentos::isolation {

namespace {

// Waits for `pid` up to `deadline`, then kills it; its wait status.
int reap(pid_t pid, std::chrono::steady_clock::time_point deadline) {
  int status = 0;
  for (;;) {
    const pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid || (got < 0 && errno != EINTR)) return status;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace

CheckOutcome check_in_child(const config::DeviceSpec& spec, const std::string& plugin_path,
                            const ChildLaunch& launch) {
  CheckOutcome out;
  const std::string who = "device '" + spec.name + "': ";
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    out.error = who + "cannot create a channel to a child: " + std::strerror(errno);
    return out;
  }
  std::string error;
  const pid_t pid = spawn_child(launch.executable, launch.arguments, -1, fds[1], error);
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    out.error = who + error;
    return out;
  }
  const int bound_ms = static_cast<int>(std::max<uint64_t>(spec.isolation.watchdog(), 1000));
  std::string hello;
  const bool sent = write_line(fds[0], setup_line(ChildSetup{spec, plugin_path, /*check=*/true, ::getpid(),
                                                             launch.max_connections}));
  const bool answered = sent && read_line(fds[0], hello, bound_ms);
  ::close(fds[0]);
  const int status = reap(pid, std::chrono::steady_clock::now() + std::chrono::milliseconds(bound_ms));
  const auto j = nlohmann::json::parse(hello, nullptr, false);
  if (answered && j.is_object() && j.value("ready", false) && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    out.ok = true;
    out.pattern = j.value("pattern", "");
    return out;
  }
  if (answered && j.is_object() && j.contains("error") && j["error"].is_string()) {
    out.error = j["error"].get<std::string>();
  } else {
    out.error = who + "plugin " + plugin_path + ": its child process " +
                (answered ? "answered but then ended with " : "ended without answering: ") + describe_exit(status);
  }
  return out;
}

}  // namespace bentos::isolation
