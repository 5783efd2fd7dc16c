#include "service_manager.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace bentos::test {

namespace {

bool same_socket(int a, int b) {
  struct stat sa {}, sb {};
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

std::string value_of(const std::string& message, const std::string& key) {
  size_t at = 0;
  while (at < message.size()) {
    const size_t end = message.find('\n', at);
    const std::string line = message.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return {};
}

// Writes `value` in decimal into `out` (no allocation: runs after fork).
void format_pid(char* out, long value) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0);
  while (n > 0) *out++ = digits[--n];
  *out = '\0';
}

}  // namespace

ServiceManager::ServiceManager(const std::string& dir) : path_(dir + "/notify.sock") {
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (fd_ < 0 || path_.size() >= sizeof addr.sun_path) throw std::runtime_error("notify socket: cannot create");
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("notify socket: cannot bind " + path_);
}

ServiceManager::~ServiceManager() {
  if (pid_ > 0) stop(SIGKILL);
  for (auto& e : store_) ::close(e.fd);
  ::close(fd_);
  ::unlink(path_.c_str());
}

bool ServiceManager::receive(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  char buf[4096];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 16)];
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) return false;
  std::vector<int> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.push_back(fd);
    }
  }
  const std::string message(buf, static_cast<size_t>(n));
  messages_.push_back(message);
  if (value_of(message, "FDSTORE") == "1") {
    const std::string name = value_of(message, "FDNAME");
    for (int fd : fds) {
      bool duplicate = false;
      for (const auto& e : store_) duplicate = duplicate || same_socket(e.fd, fd);
      if (duplicate) ::close(fd);
      else store_.push_back({name.empty() ? "stored" : name, fd});
    }
    fds.clear();
  } else if (value_of(message, "FDSTOREREMOVE") == "1") {
    const std::string name = value_of(message, "FDNAME");
    for (auto it = store_.begin(); it != store_.end();) {
      if (it->name == name) {
        ::close(it->fd);
        it = store_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (int fd : fds) ::close(fd);  // fds with any other message are dropped, as systemd does
  return true;
}

const std::vector<std::string>& ServiceManager::messages() {
  while (receive(0)) {
  }
  return messages_;
}

std::vector<std::string> ServiceManager::stored_names() {
  messages();
  std::vector<std::string> names;
  for (const auto& e : store_) names.push_back(e.name);
  return names;
}

void ServiceManager::store(const std::string& name, int fd) { store_.push_back({name, fd}); }

void ServiceManager::start(const std::vector<std::string>& argv, const std::string& log_path) {
  messages();
  ready_seen_ = 0;
  for (const auto& m : messages_) ready_seen_ += value_of(m, "READY") == "1";
  // Everything is built before fork: the child only moves fds and execs.
  std::string names;
  for (const auto& e : store_) names += (names.empty() ? "" : ":") + e.name;
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    const std::string key = entry.substr(0, entry.find('='));
    if (key != "LISTEN_FDS" && key != "LISTEN_PID" && key != "LISTEN_FDNAMES" && key != "NOTIFY_SOCKET")
      env.push_back(entry);
  }
  env.push_back("NOTIFY_SOCKET=" + path_);
  if (!store_.empty()) {
    env.push_back("LISTEN_FDS=" + std::to_string(store_.size()));
    env.push_back("LISTEN_FDNAMES=" + names);
  }
  char listen_pid[64] = "LISTEN_PID=";
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  if (!store_.empty()) envp.push_back(listen_pid);
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);
  std::vector<int> fds;
  for (const auto& e : store_) fds.push_back(e.fd);
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

  pid_ = ::fork();
  if (pid_ != 0) {
    if (log_fd >= 0) ::close(log_fd);
    return;
  }
  if (log_fd >= 0) {
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
  }
  // Out of the way of 3..3+n first, then into place, without CLOEXEC.
  std::vector<int> moved;
  for (int fd : fds) moved.push_back(::fcntl(fd, F_DUPFD_CLOEXEC, 3 + static_cast<int>(fds.size()) + 16));
  for (size_t i = 0; i < moved.size(); ++i) ::dup2(moved[i], 3 + static_cast<int>(i));
  format_pid(listen_pid + std::strlen("LISTEN_PID="), static_cast<long>(::getpid()));
  ::execve(argp[0], argp.data(), envp.data());
  ::_exit(127);
}

bool ServiceManager::wait_ready(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    size_t ready = 0;
    for (const auto& m : messages()) ready += value_of(m, "READY") == "1";
    if (ready > ready_seen_) {
      ready_seen_ = ready;
      return true;
    }
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    receive(20);
  }
  return false;
}

int ServiceManager::stop(int signum, int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signum);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  for (;;) {
    messages();  // keep draining: the process may store or remove fds while it stops
    if (::waitpid(pid_, &status, WNOHANG) == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
  messages();
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace bentos::test
