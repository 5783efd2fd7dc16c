// What the daemon accepts from a service manager at start
// (net/inherited_sockets.h) and the names it stores sockets under
// (daemon/socket_store.h).
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "daemon/socket_store.h"
#include "net/inherited_sockets.h"

using bentos::daemon::SocketStore;
using bentos::net::listening_unix_socket;

namespace {

// A Unix stream socket bound to `path` (abstract when it starts with '@').
int bound_socket(const std::string& path, int type = SOCK_STREAM) {
  const int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0);
  return fd;
}

std::string temp_path() {
  char dir[] = "/tmp/bentos-inherit-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  return std::string(dir) + "/s.sock";
}

}  // namespace

TEST_CASE("a listening AF_UNIX stream socket bound to a file is taken, with its path") {
  const std::string path = temp_path();
  const int fd = bound_socket(path);
  std::string got, why;
  CHECK_FALSE(listening_unix_socket(fd, got, why));  // bound, not listening yet
  CHECK(why == "not listening");
  REQUIRE(::listen(fd, 4) == 0);
  CHECK(listening_unix_socket(fd, got, why));
  CHECK(got == path);
  ::close(fd);
  ::unlink(path.c_str());
  ::rmdir(path.substr(0, path.rfind('/')).c_str());
}

TEST_CASE("anything else is refused, with the reason") {
  std::string path, why;
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  CHECK_FALSE(listening_unix_socket(pipe_fds[0], path, why));
  CHECK(why.rfind("not a socket", 0) == 0);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);

  const int dgram = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  CHECK_FALSE(listening_unix_socket(dgram, path, why));
  CHECK(why == "not a SOCK_STREAM socket");
  ::close(dgram);

  const int inet = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK_FALSE(listening_unix_socket(inet, path, why));
  CHECK(why == "not an AF_UNIX socket");
  ::close(inet);

  const int abstract = bound_socket("@bentos-inherit-test-" + std::to_string(::getpid()));
  REQUIRE(::listen(abstract, 4) == 0);
  CHECK_FALSE(listening_unix_socket(abstract, path, why));
  CHECK(why == "not bound to a file (unnamed or abstract)");
  ::close(abstract);
}

TEST_CASE("LISTEN_* for another process are ignored, and removed from the environment") {
  ::setenv("LISTEN_PID", "1", 1);
  ::setenv("LISTEN_FDS", "2", 1);
  ::setenv("LISTEN_FDNAMES", "a:b", 1);
  const auto taken = bentos::net::take_inherited_sockets();
  CHECK(taken.usable.empty());
  CHECK(taken.rejected.empty());
  CHECK(std::getenv("LISTEN_PID") == nullptr);
  CHECK(std::getenv("LISTEN_FDS") == nullptr);
  CHECK(std::getenv("LISTEN_FDNAMES") == nullptr);
}

TEST_CASE("stored sockets are named by their path when systemd allows the name") {
  CHECK(SocketStore::valid_fd_name("/run/bentos/drivers/kv.sock"));
  CHECK(SocketStore::valid_fd_name(""));
  CHECK_FALSE(SocketStore::valid_fd_name("/run/a:b.sock"));        // ':' separates LISTEN_FDNAMES
  CHECK_FALSE(SocketStore::valid_fd_name("/run/caf\xc3\xa9.sock"));  // ASCII only
  CHECK_FALSE(SocketStore::valid_fd_name("/run/a\nb"));
  CHECK(SocketStore::valid_fd_name(std::string(255, 'x')));
  CHECK_FALSE(SocketStore::valid_fd_name(std::string(256, 'x')));
}
