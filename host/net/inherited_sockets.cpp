#include "net/inherited_sockets.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace bentos::net {

namespace {

// The first passed fd (SD_LISTEN_FDS_START).
constexpr int kFirstFd = 3;

bool parse_positive(const char* text, unsigned long& out) {
  if (!text || !*text) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoul(text, &end, 10);
  return errno == 0 && *end == '\0' && out > 0;
}

std::vector<std::string> split_names(const char* text) {
  std::vector<std::string> names;
  if (!text) return names;
  std::string all = text;
  size_t start = 0;
  for (;;) {
    const size_t colon = all.find(':', start);
    names.push_back(all.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return names;
}

bool int_option(int fd, int option, int& value) {
  socklen_t len = sizeof value;
  return ::getsockopt(fd, SOL_SOCKET, option, &value, &len) == 0;
}

}  // namespace

bool listening_unix_socket(int fd, std::string& path, std::string& why) {
  int domain = 0, type = 0, listening = 0;
  if (!int_option(fd, SO_DOMAIN, domain)) {
    why = std::string("not a socket (") + std::strerror(errno) + ")";
    return false;
  }
  if (domain != AF_UNIX) {
    why = "not an AF_UNIX socket";
    return false;
  }
  if (!int_option(fd, SO_TYPE, type) || type != SOCK_STREAM) {
    why = "not a SOCK_STREAM socket";
    return false;
  }
  if (!int_option(fd, SO_ACCEPTCONN, listening) || !listening) {
    why = "not listening";
    return false;
  }
  sockaddr_un addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    why = std::string("getsockname: ") + std::strerror(errno);
    return false;
  }
  const size_t path_len = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
  if (path_len == 0 || addr.sun_path[0] == '\0') {
    why = "not bound to a file (unnamed or abstract)";
    return false;
  }
  path.assign(addr.sun_path, strnlen(addr.sun_path, path_len));
  return true;
}

InheritedSockets take_inherited_sockets() {
  InheritedSockets out;
  unsigned long pid = 0, count = 0;
  const bool ours = parse_positive(std::getenv("LISTEN_PID"), pid) && pid == static_cast<unsigned long>(::getpid());
  const bool some = parse_positive(std::getenv("LISTEN_FDS"), count);
  const std::vector<std::string> names = split_names(std::getenv("LISTEN_FDNAMES"));
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (!ours || !some) return out;
  for (unsigned long i = 0; i < count; ++i) {
    const int fd = kFirstFd + static_cast<int>(i);
    InheritedSocket s;
    s.fd = fd;
    s.name = i < names.size() ? names[i] : std::string();
    std::string why;
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
      out.rejected.push_back({s.name, "fd " + std::to_string(fd) + ": " + std::strerror(errno)});
      continue;  // not open: nothing to close
    }
    if (!listening_unix_socket(fd, s.path, why)) {
      ::close(fd);
      out.rejected.push_back({s.name, "fd " + std::to_string(fd) + ": " + why});
      continue;
    }
    out.usable.push_back(std::move(s));
  }
  return out;
}

}  // namespace bentos::net
