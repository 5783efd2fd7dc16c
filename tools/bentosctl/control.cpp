#include "control.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

namespace bentos::ctl {

namespace {

const char kUsage[] = R"(Usage: bentosctl host CONTROL_SOCKET [list|status|help] [--json]

Asks a running bentos-driver-host (started with --control-socket) about its
devices. `list` names them; `status` (the default) adds connections,
sessions and counters. Output is pretty-printed JSON; --json prints one line.

Example:
  bentosctl host run/control.sock status
)";

// Sends one command line and returns the single-line answer.
bool ask(const std::string& path, const std::string& command, std::string& answer, std::string& error) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    error = "control socket path too long: " + path;
    ::close(fd);
    return false;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = "cannot connect to " + path + ": " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  const std::string line = command + "\n";
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    error = "cannot send to " + path + ": " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      answer.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  ::close(fd);
  if (answer.empty()) {
    error = "no answer from " + path;
    return false;
  }
  return true;
}

}  // namespace

int control_command(const std::vector<std::string>& args) {
  std::string socket, command = "status";
  bool one_line = false;
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (a == "--json") one_line = true;
    else if (socket.empty()) socket = a;
    else command = a;
  }
  if (socket.empty()) {
    std::cerr << "bentosctl host: missing CONTROL_SOCKET\n" << kUsage;
    return 2;
  }
  std::string answer, error;
  if (!ask(socket, command, answer, error)) {
    std::cerr << "bentosctl host: " << error << "\n";
    return 2;
  }
  const auto parsed = nlohmann::json::parse(answer, nullptr, false);
  if (parsed.is_discarded()) {
    std::cout << answer;
    return 2;
  }
  std::cout << (one_line ? parsed.dump() : parsed.dump(2)) << "\n";
  return parsed.contains("error") ? 1 : 0;
}

}  // namespace bentos::ctl
