// Starting and reaping the child process of an isolated device: the host's
// own executable in its internal child mode (daemon/isolated_child.h),
// with the device's listening socket as fd 3 and its private channel to
// the parent as fd 4. posix_spawn, not fork: the parent has threads
// (libuv's pool, worker executors), and only an exec is safe after a fork
// there.
//
// Plain functions; called on the loop thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace bentos::isolation {

// The fds a child finds its sockets at.
inline constexpr int kChildListenFd = 3;
inline constexpr int kChildChannelFd = 4;
// The first argument that selects the internal child mode.
inline constexpr const char* kChildModeArgument = "--isolated-child";

// This process's executable, to start children of (/proc/self/exe read
// once: a package upgrade replacing the file leaves the link naming the
// deleted one, and the new binary is what the next child should run).
std::string own_executable();

// Starts `exe kChildModeArgument args...` with `listen_fd` (or nothing,
// when -1) at fd 3 and `channel_fd` at fd 4, in a process group of its
// own (a terminal's ^C reaches the parent, which stops it in order).
// Returns the pid, or -1 with `error` set.
pid_t spawn_child(const std::string& exe, const std::vector<std::string>& args, int listen_fd, int channel_fd,
                  std::string& error);

// A wait status in words: "exit status 3", "signal SIGSEGV (core dumped)",
// "signal SIGKILL (no core dump)".
std::string describe_exit(int status);
// "SIGSEGV" for 11.
std::string signal_name(int signum);

}  // namespace bentos::isolation
