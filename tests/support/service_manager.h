// Stands in for systemd in tests of sockets kept across restarts: a
// NOTIFY_SOCKET that keeps a file descriptor store (FDSTORE=1 and
// FDSTOREREMOVE=1 with FDNAME=, fds received with SCM_RIGHTS, duplicates of
// a stored socket ignored), and a start() that passes the stored fds to
// the new process the way systemd does: from fd 3 on, with LISTEN_FDS,
// LISTEN_FDNAMES, and LISTEN_PID set in the child to its own pid.
//
// Owned by one test; not thread-safe (one thread drives it).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace bentos::test {

class ServiceManager {
 public:
  // The notification socket is <dir>/notify.sock.
  explicit ServiceManager(const std::string& dir);
  ~ServiceManager();  // SIGKILLs a daemon still running, closes the store
  ServiceManager(const ServiceManager&) = delete;
  ServiceManager& operator=(const ServiceManager&) = delete;

  // Starts `argv` (argv[0] a path) with the store passed, stdout and
  // stderr appended to `log_path`.
  void start(const std::vector<std::string>& argv, const std::string& log_path);
  // Waits for a READY=1 not reported before (after start(): the process
  // is ready; after a SIGHUP: its reload is done); false on timeout or
  // when the process exited first.
  bool wait_ready(int timeout_ms = 10000);
  // Sends `signum` and waits for the exit: the exit status, 128+signal, or
  // -1 (then it was SIGKILLed).
  int stop(int signum, int timeout_ms = 10000);
  pid_t pid() const { return pid_; }

  // Adds an fd to the store as if the service had stored it (ownership
  // passes), e.g. one that is not a listening socket.
  void store(const std::string& name, int fd);
  std::vector<std::string> stored_names();
  // Every message received so far, in order.
  const std::vector<std::string>& messages();

 private:
  bool receive(int timeout_ms);
  struct Entry {
    std::string name;
    int fd;
  };
  std::string path_;
  int fd_ = -1;
  pid_t pid_ = -1;
  std::vector<Entry> store_;
  std::vector<std::string> messages_;
  size_t ready_seen_ = 0;  // READY=1 messages already reported by wait_ready()
};

}  // namespace bentos::test
