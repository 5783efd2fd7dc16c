#include "daemon/crash_report.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "loop/signal_stack.h"
#include "util/log.h"

namespace bentos::daemon {

namespace {

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

// Read by the handler; set once by install_crash_report(), before any
// handler can run (what it asks calls getenv, not async-signal-safe).
bool g_journal = false;
bool g_isolated_child = false;

// Appends to a fixed buffer, cutting what does not fit; keeps room for
// the final newline. Async-signal-safe: no allocation, no locale.
class LineWriter {
 public:
  LineWriter(char* out, size_t capacity) : out_(out), capacity_(capacity) {}
  LineWriter& add(const char* text) {
    for (; text && *text && len_ + 1 < capacity_; ++text) out_[len_++] = *text;
    return *this;
  }
  LineWriter& add_number(long value) {
    char digits[24];
    size_t n = 0;
    unsigned long v = value < 0 ? 0UL - static_cast<unsigned long>(value) : static_cast<unsigned long>(value);
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    if (value < 0) digits[n++] = '-';
    while (n > 0 && len_ + 1 < capacity_) out_[len_++] = digits[--n];
    return *this;
  }
  size_t finish() {
    if (capacity_ == 0) return 0;
    out_[len_++] = '\n';  // add() always left room for it
    return len_;
  }

 private:
  char* out_;
  size_t capacity_;
  size_t len_ = 0;
};

// strsignal() may allocate and is not async-signal-safe: the five we catch.
struct SignalText {
  const char* name;  // null for a signal not caught here
  const char* meaning;
};
SignalText describe(int signum) {
  switch (signum) {
    case SIGSEGV: return {"SIGSEGV", "segmentation fault"};
    case SIGBUS: return {"SIGBUS", "bus error"};
    case SIGFPE: return {"SIGFPE", "arithmetic exception"};
    case SIGILL: return {"SIGILL", "illegal instruction"};
    case SIGABRT: return {"SIGABRT", "aborted"};
    default: return {nullptr, "fatal signal"};
  }
}

void write_all(int fd, const char* data, size_t len) {
  while (len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report to; the death itself still happens
    data += n;
    len -= static_cast<size_t>(n);
  }
}

void on_fatal_signal(int signum, siginfo_t* info, void*) {
  const int saved_errno = errno;
  // Sent by another process (kill(1), systemd's watchdog sending SIGABRT)
  // rather than raised by the code that was running here.
  const bool sent = info && info->si_code <= 0 && info->si_pid != ::getpid();
  char line[1536];
  const size_t len = format_crash_line(line, sizeof line, signum, sent ? info->si_pid : 0,
                                       loop::running_plugin, g_journal, g_isolated_child);
  write_all(STDERR_FILENO, line, len);
  // SA_RESETHAND put the default action back on entry. A fault the kernel
  // raised (si_code > 0) happens again when the faulting instruction runs
  // again on return, now with the default action: the core dump then shows
  // the fault itself. Anything else (abort(), kill) is raised once more;
  // it stays pending while this handler blocks it and ends the process as
  // the handler returns.
  if (!info || info->si_code <= 0 || signum == SIGABRT) ::raise(signum);
  errno = saved_errno;
}

}  // namespace

size_t format_crash_line(char* out, size_t capacity, int signum, pid_t sender, const loop::PluginCallSite* site,
                         bool journal, bool isolated_child) noexcept {
  LineWriter line(out, capacity);
  if (journal) line.add("<3>");
  line.add("error: ");
  if (site && site->device) line.add(site->device).add(": ");
  const SignalText text = describe(signum);
  line.add(isolated_child ? "the device's isolated process" : "the host");
  line.add(sender > 0 ? " was killed with " : " crashed with ");
  if (text.name) line.add(text.name);
  else line.add("signal ").add_number(signum);
  line.add(" (").add(text.meaning);
  if (sender > 0) line.add(", sent by process ").add_number(sender);
  line.add(")");
  if (site && site->device) {
    line.add(" in a plugin callback of device '").add(site->device).add("' (").add(site->what);
    if (site->plugin) line.add(", plugin ").add(site->plugin);
    line.add(")");
  } else if (site) {
    line.add(" in plugin ").add(site->plugin ? site->plugin : "code").add(" (").add(site->what).add(")");
  } else {
    line.add(" while no plugin callback was running on the crashing thread (the host itself, or a thread a "
             "plugin started)");
  }
  line.add(isolated_child ? "; exiting by the same signal so that the host restarts this device"
                          : "; exiting by the same signal so that the service manager restarts the host");
  return line.finish();
}

void report_crashes_as_isolated_child() { g_isolated_child = true; }

void install_crash_report() {
  // Never freed: the alternate stack must outlive every static destructor
  // that could still crash.
  static const loop::SignalStack* main_stack = new loop::SignalStack();
  (void)main_stack;
  g_journal = log::to_journal();
  struct sigaction action {};
  action.sa_sigaction = on_fatal_signal;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  for (int signum : kFatalSignals) ::sigaction(signum, &action, nullptr);
}

}  // namespace bentos::daemon
