#include "isolation/child_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

extern char** environ;

namespace bentos::isolation {

std::string own_executable() {
  std::error_code ec;
  std::string path = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  // After an upgrade the link reads "/usr/sbin/bentos-driver-host (deleted)".
  const std::string deleted = " (deleted)";
  if (path.size() > deleted.size() && path.compare(path.size() - deleted.size(), deleted.size(), deleted) == 0)
    path.resize(path.size() - deleted.size());
  return ec ? "/proc/self/exe" : path;
}

pid_t spawn_child(const std::string& exe, const std::vector<std::string>& args, int listen_fd, int channel_fd,
                  std::string& error) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  // dup2 clears close-on-exec on the copy; every other fd of ours has it.
  // The channel goes to a spare number first, in case it is 3 itself.
  constexpr int kSpare = 10;
  posix_spawn_file_actions_adddup2(&actions, channel_fd, kSpare);
  if (listen_fd >= 0) posix_spawn_file_actions_adddup2(&actions, listen_fd, kChildListenFd);
  posix_spawn_file_actions_adddup2(&actions, kSpare, kChildChannelFd);
  posix_spawn_file_actions_addclose(&actions, kSpare);
  // Signals the parent ignores or blocks (SIGPIPE, libuv's mask) must not
  // carry over: the child sets up its own.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  argv.push_back(const_cast<char*>(kChildModeArgument));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    error = "cannot start a child process (" + exe + "): " + std::strerror(rc);
    return -1;
  }
  return pid;
}

std::string signal_name(int signum) {
  const char* abbrev = ::sigabbrev_np(signum);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(signum);
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    // Said either way: the operator's next question is where the core is.
    return "signal " + signal_name(WTERMSIG(status)) + (WCOREDUMP(status) ? " (core dumped)" : " (no core dump)");
  }
  return "wait status " + std::to_string(status);
}

}  // namespace bentos::isolation
