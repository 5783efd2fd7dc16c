// A device served by a child process of its own ("isolation": "process";
// docs/operations.md, "Fault isolation"). The parent binds the listening
// socket and keeps it for the device's whole life; each child gets it as
// fd 3, accepts on it and serves its connections itself (no proxy hop).
// When a child dies (a signal, a non-zero exit, or killed by the watchdog
// because its loop stopped answering), its connections close, one line is
// logged, and a new child starts after a backoff (100 ms doubling to 30 s,
// back to 100 ms after a child that ran 60 s); meanwhile clients wait in
// the socket's backlog, never refused.
//
// Owned by the Host; loop thread only.
#pragma once

#include <sys/types.h>
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "config/manifest.h"
#include "isolation/child_channel.h"
#include "net/inherited_sockets.h"

namespace bentos::isolation {

// How every child of this host is started: the host's own executable in
// child mode, with these arguments (log level, plugin trust).
struct ChildLaunch {
  std::string executable;
  std::vector<std::string> arguments;
  uint64_t max_connections = 1024;  // each child's share of the host-wide limit
  // How long a child may take to load its plugin and run create() before
  // it is killed (the host's lifecycle_timeout_ms; at least watchdog_ms).
  uint64_t start_timeout_ms = 10000;
};

// The backoff and crash-loop rule, apart so tests can read it.
struct RestartPolicy {
  std::chrono::milliseconds first_delay{100};
  std::chrono::milliseconds max_delay{30000};
  std::chrono::milliseconds healthy_after{60000};  // a child up this long resets the delay
  size_t crash_loop_restarts = 5;                  // this many restarts...
  std::chrono::milliseconds crash_loop_window{60000};  // ...within this window
};

class IsolatedDevice {
 public:
  // `socket_fd`: a listening socket to keep serving (a reload restarting
  // the device hands its predecessor's over), or -1 to bind one.
  IsolatedDevice(uv_loop_t* loop, config::DeviceSpec spec, std::string plugin_path, ChildLaunch launch,
                 net::SocketHandover* handover, int socket_fd = -1, RestartPolicy policy = {});
  ~IsolatedDevice();
  IsolatedDevice(const IsolatedDevice&) = delete;
  IsolatedDevice& operator=(const IsolatedDevice&) = delete;

  // Binds (or takes over) the socket and starts the first child; false with
  // `error` when the socket cannot be had or the child cannot be started.
  bool start(std::string& error);
  // Stopping, in two steps so a host stops all its children at once:
  // SIGTERM to the child (its device stops as an in-process one does)...
  void begin_stop();
  // ...then waits until `deadline` for it to exit, SIGKILLs it after, and
  // closes the socket (its file removed unless handed over) unless
  // `keep_socket`, when release_socket() takes it next.
  void finish_stop(std::chrono::steady_clock::time_point deadline, bool keep_socket = false);
  // The listening socket, for the device's successor; -1 after.
  int release_socket();

  // Sends a control-protocol request line to the child; `answer` gets its
  // answer, or nullptr when no child serves right now or it died first.
  void ask(const std::string& line, ChildChannel::AnswerFn answer);

  const config::DeviceSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  const std::string& plugin_path() const { return plugin_path_; }
  // True when the plugin file on disk is not the one the children load.
  bool plugin_file_replaced() const;
  // "starting", "running", "restarting", "crash-looping" or "stopped".
  std::string state() const;
  pid_t pid() const { return pid_; }
  uint64_t restarts() const { return restarts_; }
  // How the last child ended ("signal SIGSEGV"), "" before any did.
  const std::string& last_exit() const { return last_exit_; }
  // The running child's hello: {"ready": true, "pattern", "driver", ...}.
  const std::string& hello() const { return hello_; }

 private:
  void spawn();
  void on_hello(const std::string& line);
  void on_child_exit(int status);
  void restart_later();
  void heartbeat();
  void kill_child(const std::string& why);
  size_t recent_restarts() const;
  static void on_sigchld(uv_signal_t* handle, int);

  uv_loop_t* loop_;
  config::DeviceSpec spec_;
  std::string plugin_path_;
  ChildLaunch launch_;
  net::SocketHandover* handover_;
  RestartPolicy policy_;
  int socket_fd_ = -1;
  std::string socket_path_;
  uint64_t plugin_identity_ = 0;  // inode ^ mtime of the plugin file at the last spawn

  pid_t pid_ = -1;
  std::unique_ptr<ChildChannel> channel_;
  std::string hello_;  // "" until the running child said it serves
  std::chrono::steady_clock::time_point spawned_at_;
  bool heartbeat_waiting_ = false;
  std::string kill_reason_;  // set when the watchdog killed the child

  uint64_t restarts_ = 0;
  std::string last_exit_;
  std::deque<std::chrono::steady_clock::time_point> restart_times_;
  std::chrono::milliseconds next_delay_;
  bool stopping_ = false;

  // Heap handles, freed in their close callbacks (uv_close is asynchronous).
  uv_signal_t* sigchld_ = nullptr;
  uv_timer_t* restart_timer_ = nullptr;
  uv_timer_t* heartbeat_timer_ = nullptr;
};

}  // namespace bentos::isolation
