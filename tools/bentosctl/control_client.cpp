#include "control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace bentos::ctl {

namespace {

// Closes the descriptor on every way out.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string connect_error(const std::string& path, int err) {
  switch (err) {
    case ENOENT:
      return "no control socket at " + path +
             " (is bentos-driver-host running? give the socket with --control-socket PATH or "
             "BENTOS_CONTROL_SOCKET)";
    case EACCES:
    case EPERM:
      return "permission denied on " + path +
             " (the control socket is mode 0660: run as root or as a member of its group)";
    case ECONNREFUSED: return "nothing listens on " + path + " (a stale socket: is bentos-driver-host running?)";
    case ENOTSOCK: return path + " is not a socket";
    default: return "cannot connect to " + path + ": " + std::strerror(err);
  }
}

}  // namespace

std::string default_control_socket() {
  const char* env = std::getenv("BENTOS_CONTROL_SOCKET");
  return env && *env ? env : "/run/bentos/driver-host.sock";
}

bool ask_control(const std::string& given, const std::string& request, int timeout_ms, std::string& answer,
                 std::string& error) {
  const std::string path = given.rfind("unix://", 0) == 0 ? given.substr(7) : given;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    error = "control socket path " + (path.empty() ? std::string("is empty") : "too long: " + path);
    return false;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  Fd sock{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (sock.fd < 0) {
    error = std::string("cannot create a socket: ") + std::strerror(errno);
    return false;
  }
  if (::connect(sock.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = connect_error(path, errno);
    return false;
  }
  const std::string line = request + "\n";
  for (size_t sent = 0; sent < line.size();) {
    const ssize_t n = ::send(sock.fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot send to " + path + ": " + std::strerror(errno);
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  // One request: the daemon answers it, sees the end, and closes.
  ::shutdown(sock.fd, SHUT_WR);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[16384];
  for (;;) {
    const auto nl = answer.find('\n');
    if (nl != std::string::npos) {
      answer.resize(nl);
      return true;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    pollfd p{sock.fd, POLLIN, 0};
    const int ready = left > 0 ? ::poll(&p, 1, static_cast<int>(left)) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      error = "no answer from " + path + " within " + std::to_string(timeout_ms) + " ms";
      return false;
    }
    const ssize_t n = ::recv(sock.fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot read from " + path + ": " + std::strerror(errno);
      return false;
    }
    if (n == 0) {
      if (answer.empty()) {
        error = "the daemon closed " + path + " without answering";
        return false;
      }
      return true;  // an answer without its newline
    }
    answer.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace bentos::ctl
