// A bentos-driver-host child process for bentos-bench: a temp directory
// with a manifest, the sockets, the control socket and the host's log;
// posix_spawn of the built host binary; "every socket accepts"; the
// child's resident memory; SIGTERM and wait. SIGINT, SIGTERM or SIGHUP
// to bentos-bench is passed on to the running host first.
//
// Owned by the scenario or main(); one thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bentos::bench {

struct HostLaunch {
  std::string binary;      // bentos-driver-host
  std::string plugin_dir;  // the example plugins
  std::string manifest;    // JSON text of the manifest
  std::vector<std::string> devices;  // names whose <name>.sock must accept
};

class HostProcess {
 public:
  HostProcess() = default;
  ~HostProcess();  // stop(), then removes the directory
  HostProcess(const HostProcess&) = delete;
  HostProcess& operator=(const HostProcess&) = delete;

  // Writes the manifest into a fresh temp directory and spawns the host;
  // `spawned_ns` gets the CLOCK_MONOTONIC time just before the spawn.
  bool start(const HostLaunch& launch, std::string& error, int64_t* spawned_ns = nullptr);
  // Waits until every device's socket accepts a connection (probing
  // every 0.1 ms); false with `error` (and the host's log) on timeout or
  // when the host exits. `ready_ns` gets the time the last one accepted.
  bool wait_ready(int timeout_ms, std::string& error, int64_t* ready_ns = nullptr);
  // SIGTERM, then waits; true when the host exited 0.
  bool stop();

  pid_t pid() const { return pid_; }
  std::string socket(const std::string& device) const { return dir_ + "/" + device + ".sock"; }
  std::string log_text() const;

 private:
  std::string dir_;
  std::vector<std::string> devices_;
  pid_t pid_ = -1;
};

// VmRSS of `pid` from /proc/<pid>/status, in bytes; -1 if unreadable.
int64_t resident_bytes(pid_t pid);
int64_t monotonic_ns();

}  // namespace bentos::bench
