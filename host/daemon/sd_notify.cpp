#include "daemon/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "util/log.h"

namespace bentos::daemon {

namespace {

bool parse_u64(const char* text, uint64_t& out) {
  if (!text || !*text) return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0') return false;
  out = v;
  return true;
}

uint64_t monotonic_usec() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace

SdNotifier::SdNotifier() {
  const char* socket_env = std::getenv("NOTIFY_SOCKET");
  if (!socket_env || !*socket_env) return;
  const std::string path = socket_env;
  if (path[0] != '/' && path[0] != '@') {
    log::warn("", "NOTIFY_SOCKET '" + path + "' is neither an absolute path nor '@abstract'; not notifying systemd");
    return;
  }
  struct sockaddr_un addr {};
  if (path.size() > sizeof addr.sun_path - 1) {
    log::warn("", "NOTIFY_SOCKET '" + path + "' is too long; not notifying systemd");
    return;
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract: no terminating NUL counted
  const size_t len = offsetof(struct sockaddr_un, sun_path) + path.size() + (path[0] == '/' ? 1 : 0);
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    log::warn("", std::string("sd_notify: cannot create a socket: ") + std::strerror(errno));
    return;
  }
  fd_ = fd;
  address_.assign(reinterpret_cast<const char*>(&addr), len);

  uint64_t usec = 0;
  if (parse_u64(std::getenv("WATCHDOG_USEC"), usec) && usec > 0) {
    uint64_t pid = 0;
    const char* pid_env = std::getenv("WATCHDOG_PID");
    const bool ours = !pid_env || !*pid_env ||
                      (parse_u64(pid_env, pid) && pid == static_cast<uint64_t>(::getpid()));
    if (ours) watchdog_usec_ = usec;
  }
}

SdNotifier::~SdNotifier() {
  // A timer still open here belongs to a loop that is no longer run; leave
  // it to the process exit rather than free memory libuv still links to.
  if (fd_ >= 0) ::close(fd_);
}

bool SdNotifier::send(std::string_view message) {
  if (fd_ < 0) return false;
  const ssize_t n = ::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL,
                             reinterpret_cast<const struct sockaddr*>(address_.data()),
                             static_cast<socklen_t>(address_.size()));
  return report_send(n, message.size());
}

bool SdNotifier::send_with_fd(std::string_view message, int fd) {
  if (fd_ < 0) return false;
  struct iovec iov {const_cast<char*>(message.data()), message.size()};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg {};
  msg.msg_name = const_cast<char*>(address_.data());
  msg.msg_namelen = static_cast<socklen_t>(address_.size());
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  return report_send(::sendmsg(fd_, &msg, MSG_NOSIGNAL), message.size());
}

bool SdNotifier::report_send(ssize_t n, size_t wanted) {
  if (n == static_cast<ssize_t>(wanted)) return true;
  if (!send_failed_logged_) {
    send_failed_logged_ = true;
    log::warn("", std::string("sd_notify: cannot send to NOTIFY_SOCKET: ") +
                      (n < 0 ? std::strerror(errno) : "short write"));
  }
  return false;
}

void SdNotifier::ready(std::string_view status) {
  std::string m = "READY=1";
  if (!status.empty()) {
    m += "\nSTATUS=";
    m += status;
  }
  send(m);
}

void SdNotifier::reloading() { send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec())); }

void SdNotifier::stopping() { send("STOPPING=1"); }

void SdNotifier::start_watchdog(uv_loop_t* loop) {
  if (fd_ < 0 || watchdog_usec_ == 0 || timer_) return;
  timer_ = new uv_timer_t;
  uv_timer_init(loop, timer_);
  timer_->data = this;
  const uint64_t period_ms = watchdog_usec_ / 2 / 1000 > 0 ? watchdog_usec_ / 2 / 1000 : 1;
  send("WATCHDOG=1");
  uv_timer_start(
      timer_, [](uv_timer_t* t) { static_cast<SdNotifier*>(t->data)->send("WATCHDOG=1"); }, period_ms, period_ms);
}

void SdNotifier::stop_watchdog() {
  if (!timer_) return;
  uv_timer_stop(timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  timer_ = nullptr;
}

}  // namespace bentos::daemon
