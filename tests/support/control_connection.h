// A test's connection to the daemon's control socket: raw lines out, lines
// back, so tests can send exactly what a broken client would (bad JSON,
// over-long lines, several requests at once).
//
// Owned by one test; not thread-safe.
#pragma once

#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

namespace bentos::test {

class ControlConnection {
 public:
  explicit ControlConnection(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~ControlConnection() { ::close(fd_); }
  ControlConnection(const ControlConnection&) = delete;
  ControlConnection& operator=(const ControlConnection&) = delete;

  bool connected() const { return connected_; }

  // Sends `bytes` as they are (add the newline yourself).
  bool send_raw(const std::string& bytes) {
    for (size_t sent = 0; sent < bytes.size();) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }
  // No more requests: the daemon answers what it has, then closes.
  void finish_sending() { ::shutdown(fd_, SHUT_WR); }

  // The next answer line (without its newline); "" after timeout_ms or
  // when the daemon closed first.
  std::string read_line(int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      pollfd p{fd_, POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return "";
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return "";
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  // True when the daemon closed the connection (EOF) within timeout_ms.
  bool closed_by_peer(int timeout_ms = 3000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

  // One request line, its answer parsed (discarded JSON if none came).
  nlohmann::json ask(const std::string& request) {
    if (!send_raw(request + "\n")) return nlohmann::json(nlohmann::json::value_t::discarded);
    return nlohmann::json::parse(read_line(), nullptr, false);
  }
  nlohmann::json ask_json(const nlohmann::json& request) { return ask(request.dump()); }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

// One request on a fresh connection.
inline nlohmann::json ask_control(const std::string& path, const nlohmann::json& request) {
  ControlConnection c(path);
  REQUIRE(c.connected());
  return c.ask_json(request);
}

// The stats of one device (null when it is not there).
inline nlohmann::json device_stats(const std::string& path, const std::string& device) {
  const auto answer = ask_control(path, {{"command", "stats"}, {"device", device}});
  if (!answer.is_object() || answer.value("ok", false) != true || answer["devices"].size() != 1) return nullptr;
  return answer["devices"][0];
}

}  // namespace bentos::test
