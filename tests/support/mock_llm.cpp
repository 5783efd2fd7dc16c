#include "mock_llm.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace bentos::test {

namespace {

bool send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string script_path() {
  const char* dir = std::getenv("BENTOS_SOURCE_DIR");
  if (!dir || !*dir) throw std::runtime_error("BENTOS_SOURCE_DIR is not set (run the tests through meson test)");
  return std::string(dir) + "/tests/support/mock_llm/mock_llm.py";
}

}  // namespace

HttpReply http_exchange(int port, const std::string& method, const std::string& path, const std::string& body) {
  HttpReply reply;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return reply;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string raw;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                                "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                                "\r\n\r\n" + body;
    if (send_all(fd, request)) {
      char buf[65536];
      for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        raw.append(buf, static_cast<size_t>(n));
      }
    }
  }
  ::close(fd);
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody": the mock's control answers have a
  // Content-Length and end with the connection, so the rest is the body.
  const size_t head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) return reply;
  reply.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  reply.body = raw.substr(head_end + 4);
  return reply;
}

MockLlm::MockLlm(const std::string& script_arg) {
  const std::string script = script_arg.empty() ? script_path() : script_arg;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Dies with the test process, even when that one crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(out[1], STDOUT_FILENO);
    const char* argv[] = {"python3", script.c_str(), "--port", "0", nullptr};
    ::execvp("python3", const_cast<char* const*>(argv));
    ::_exit(127);
  }
  ::close(out[1]);
  // Read the first line, "listening 127.0.0.1:PORT"; python's start-up can
  // be slow on a loaded machine.
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  const size_t colon = line.rfind(':');
  if (line.rfind("listening ", 0) == 0 && colon != std::string::npos) port_ = std::atoi(line.c_str() + colon + 1);
  if (port_ <= 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    throw std::runtime_error("mock_llm.py did not start: '" + line + "'");
  }
}

MockLlm::~MockLlm() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::string MockLlm::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

nlohmann::json MockLlm::control(const std::string& method, const std::string& path, const std::string& body) const {
  const HttpReply reply = http_exchange(port_, method, path, body);
  if (reply.status != 200) throw std::runtime_error("mock control " + path + " answered " + std::to_string(reply.status));
  return nlohmann::json::parse(reply.body);
}

void MockLlm::script(const nlohmann::json& specs) const { control("POST", "/_mock/script", specs.dump()); }
void MockLlm::reset() const { control("POST", "/_mock/reset", "{}"); }
void MockLlm::config(const nlohmann::json& settings) const { control("POST", "/_mock/config", settings.dump()); }
nlohmann::json MockLlm::requests() const { return control("GET", "/_mock/requests", ""); }

bool MockLlm::wait_requests(const std::function<bool(const nlohmann::json&)>& done,
                            std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done(requests())) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace bentos::test
