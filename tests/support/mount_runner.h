// Starts the real bentos-mount binary for an integration test on a fresh
// temporary mount point, waits until the mount shows the device files, and
// always leaves nothing mounted behind: the destructor stops it with SIGTERM
// (and CHECKs that it exited 0) and, should the mount still be there,
// detaches it (umount2 MNT_DETACH, else fusermount3 -uz).
//
// Owned by one test; not thread-safe.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace bentos::test {

class MountRunner {
 public:
  // Runs `bentos-mount ARGS... <mountpoint>` and waits up to timeout_ms for
  // <mountpoint>/<probe> to exist (probe: a device file name).
  MountRunner(std::vector<std::string> args, const std::string& probe, int timeout_ms = 5000);
  ~MountRunner();
  MountRunner(const MountRunner&) = delete;
  MountRunner& operator=(const MountRunner&) = delete;

  bool ready() const { return ready_; }
  const std::string& mountpoint() const { return mountpoint_; }
  pid_t pid() const { return pid_; }
  // Everything bentos-mount printed so far (stdout and stderr).
  std::string log() const;
  bool running() const;
  // Sends `signum` and waits up to timeout_ms; returns the exit status
  // (128 + signal when killed by one; -1 when it had to be killed).
  int stop(int signum = 15, int timeout_ms = 10000);
  // Waits up to timeout_ms for it to exit by itself; its exit status, or
  // -1 when it is still running.
  int wait_exit(int timeout_ms);

 private:
  std::string dir_;         // holds the mount point and the log
  std::string mountpoint_;
  std::string log_path_;
  mutable pid_t pid_ = -1;  // -1 once reaped
  mutable int exit_status_ = -1;
  bool ready_ = false;
};

std::string mount_path();  // <build>/tools/mount/bentos-mount

// True when something is mounted exactly at `path` (/proc/self/mountinfo).
bool is_mounted(const std::string& path);
// Detaches whatever is mounted at `path` (lazy), if anything.
void force_unmount(const std::string& path);

// Why FUSE mounts cannot be tested here ("" when they can): bentos-mount
// not built, /dev/fuse missing or not openable, or a probe mount refused.
// Probes once per process.
std::string fuse_unavailable_reason();

// Finds `name` in $PATH (or the usual bin folders); "" when absent.
std::string find_program(const std::string& name);

}  // namespace bentos::test
