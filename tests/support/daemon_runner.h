// Starts the real bentos-driver-host binary for an integration test: a
// temporary directory with a manifest and a socket directory, the build
// tree's plugin directories, stderr captured to a log file. Stops it with
// SIGTERM on destruction (and checks it exited cleanly).
//
// Owned by one test; not thread-safe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "client.h"

namespace bentos::test {

class DaemonRunner {
 public:
  // `devices_json` is the manifest's "devices" array as JSON text; a
  // device without "socket" gets <tmp>/run/<name>.sock. Extra arguments are
  // appended to the command line; "@DIR@" in one stands for the temporary
  // directory (e.g. "--control-socket", "@DIR@/control.sock").
  // `reuse_dir`, when given, is used instead of a fresh temporary directory
  // (e.g. the dir() of a runner stopped before, to restart a host on the
  // same sockets); it is then left in place on destruction.
  // `extra_env` entries ("NAME=value", "@DIR@" substituted as above) are
  // added to the daemon's environment, replacing a variable of that name.
  explicit DaemonRunner(const std::string& devices_json, std::vector<std::string> extra_args = {},
                        const std::string& reuse_dir = {}, std::vector<std::string> extra_env = {});
  ~DaemonRunner();
  DaemonRunner(const DaemonRunner&) = delete;
  DaemonRunner& operator=(const DaemonRunner&) = delete;

  // True when the daemon started and every device socket accepts.
  bool ready() const { return ready_; }
  // <dir>/run/<name>.sock, each '/' of a nested name written as '-' (as the
  // daemon's default socket, config::default_socket_uri).
  std::string socket(const std::string& device) const;
  // A fresh client connection to a device (REQUIREd to succeed by callers).
  std::unique_ptr<client::Connection> connect(const std::string& device) const;

  // The control socket, when started with control_socket = true.
  std::string control_socket() const { return dir_ + "/control.sock"; }

  // Everything the daemon logged so far.
  std::string log() const;
  // Waits up to timeout_ms for `needle` to appear in the log.
  bool wait_for_log(const std::string& needle, int timeout_ms = 3000) const;
  bool running() const;
  // Sends `signum` to the daemon; false if it is not running.
  bool signal(int signum) const;
  // Sends SIGTERM and waits; returns the exit status (or -1).
  int stop();
  // Waits up to timeout_ms for the daemon to end by itself (a crash) and
  // returns waitpid's raw status (WIFSIGNALED, WTERMSIG...), or -1 when it
  // is still running. After it ended the runner checks no clean exit.
  int wait_end(int timeout_ms);

  const std::string& dir() const { return dir_; }
  // The daemon's process id (to read /proc/PID, e.g. its thread count);
  // -1 once it was stopped and reaped.
  pid_t pid() const { return pid_; }

 private:
  std::string dir_;
  bool owns_dir_ = true;  // false for a reused directory
  std::string log_path_;
  std::vector<std::string> device_names_;
  mutable pid_t pid_ = -1;  // -1 once reaped
  bool ready_ = false;
  mutable int exit_status_ = -1;
};

// Paths inside the build tree (from BENTOS_BUILD_DIR set by meson).
std::string build_dir();
std::string daemon_path();
std::string plugin_dir();       // example plugins
std::string test_plugin_dir();  // plugins built for tests

// The host's plugin trust check refuses plugins in a group-writable
// checkout (umask 002) or one owned by another user (tests run as root in
// a user's tree). So the runner passes {"--allow-insecure-plugins"} only
// when the build tree fails that check, and {} otherwise, so that a normal
// tree exercises the check in every test.
std::vector<std::string> trust_args();

// Runs any program to completion (argv[0] is a path); stdout+stderr in
// `output`. Returns its exit status, or -1 if it had to be killed.
int run_program(const std::vector<std::string>& argv, std::string& output, int timeout_ms = 20000);
std::string bentosctl_path();

// Runs the daemon to completion with `args` (e.g. --check) and returns its
// exit status, with stdout+stderr in `output`.
int run_daemon_once(const std::vector<std::string>& args, std::string& output);

// mkdtemp under $TMPDIR or /tmp; removed recursively by remove_tree.
std::string make_temp_dir(const std::string& prefix);
void remove_tree(const std::string& path);
void write_text(const std::string& path, const std::string& text);

}  // namespace bentos::test
