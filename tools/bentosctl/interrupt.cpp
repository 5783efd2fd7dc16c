#include "interrupt.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace bentos::ctl::interrupt {

namespace {

volatile std::sig_atomic_t g_signal = 0;
int g_pipe[2] = {-1, -1};

extern "C" void on_signal(int signo) {
  if (g_signal != 0) ::_exit(128 + signo);  // a second Ctrl-C: no more cleanup
  g_signal = signo;
  const int saved = errno;
  const char byte = 1;
  if (g_pipe[1] >= 0) {
    [[maybe_unused]] const ssize_t n = ::write(g_pipe[1], &byte, 1);
  }
  errno = saved;
}

// Polls `fd` (if >= 0) for `events` together with the wake pipe. Returns 1
// when fd is ready, 0 on timeout, -1 when interrupted.
int wait_fd(int fd, short events, int timeout_ms) {
  for (;;) {
    if (g_signal != 0) return -1;
    pollfd p[2] = {{g_pipe[0], POLLIN, 0}, {fd, events, 0}};
    const int n = ::poll(p, fd >= 0 ? 2 : 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (g_signal != 0) return -1;
    if (n <= 0) return 0;
    if (fd >= 0 && p[1].revents != 0) return 1;
  }
}

}  // namespace

void install() {
  if (g_pipe[0] < 0 && ::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    g_pipe[0] = g_pipe[1] = -1;
  }
  for (const int signo : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    ::sigaction(signo, nullptr, &old);
    if (old.sa_handler == SIG_IGN) continue;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // poll(2) still returns EINTR, and the pipe wakes it
    ::sigaction(signo, &sa, nullptr);
  }
}

int received() { return g_signal; }

int exit_status() { return 128 + g_signal; }

int wake_fd() { return g_pipe[0]; }

bool sleep_ms(int ms) { return wait_fd(-1, 0, ms) == 0; }

bool read_stdin(std::string& out, std::string& error) {
  out.clear();
  char buf[64 * 1024];
  for (;;) {
    // Wait for input or a signal (a terminal read would otherwise be
    // restarted after Ctrl-C).
    if (wait_fd(STDIN_FILENO, POLLIN, -1) < 0) return false;
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return true;
    if (errno == EINTR || errno == EAGAIN) continue;
    error = std::string("cannot read standard input: ") + std::strerror(errno);
    return false;
  }
}

bool write_stdout(const std::string& bytes) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n > 0) {
      p += n;
      left -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd w{STDOUT_FILENO, POLLOUT, 0};
      ::poll(&w, 1, -1);
      continue;
    }
    return false;
  }
  return true;
}

}  // namespace bentos::ctl::interrupt
