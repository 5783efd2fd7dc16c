#include "host_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace bentos::bench {
namespace {

bool accepts(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// The host child running now, for the signal handler below.
std::atomic<pid_t> live_child{-1};

// Ctrl-C or a kill of bentos-bench must not leave its host running: pass
// the signal on to the child, then die of it as before.
void forward_and_die(int signum) {
  const pid_t child = live_child.load();
  if (child > 0) ::kill(child, SIGTERM);
  ::signal(signum, SIG_DFL);
  ::raise(signum);
}

void forward_fatal_signals_once() {
  static const bool installed = [] {
    for (int signum : {SIGINT, SIGTERM, SIGHUP}) ::signal(signum, forward_and_die);
    return true;
  }();
  (void)installed;
}

}  // namespace

int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

int64_t resident_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoll(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return -1;
}

bool HostProcess::start(const HostLaunch& launch, std::string& error, int64_t* spawned_ns) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/bentos-bench.XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    error = "mkdtemp: " + std::string(std::strerror(errno));
    return false;
  }
  dir_ = tmpl;
  devices_ = launch.devices;
  const std::string manifest = dir_ + "/devices.json";
  std::ofstream(manifest) << launch.manifest;

  const std::string log = dir_ + "/host.log";
  std::vector<std::string> args = {launch.binary,  "--config",         manifest,
                                   "--plugin-dir", launch.plugin_dir,  "--socket-dir",
                                   dir_,           "--control-socket", dir_ + "/control.sock",
                                   "--log-level",  "warn",
                                   // The plugins of a build tree, wherever it sits (even under /tmp).
                                   "--allow-insecure-plugins"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  forward_fatal_signals_once();
  if (spawned_ns) *spawned_ns = monotonic_ns();
  const int rc = ::posix_spawn(&pid_, launch.binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    error = "spawn " + launch.binary + ": " + std::strerror(rc);
    return false;
  }
  live_child.store(pid_);
  return true;
}

bool HostProcess::wait_ready(int timeout_ms, std::string& error, int64_t* ready_ns) {
  const int64_t deadline = monotonic_ns() + int64_t{timeout_ms} * 1000000;
  size_t next = 0;  // devices_[0, next) accept already
  while (next < devices_.size()) {
    if (accepts(socket(devices_[next]))) {
      ++next;
      continue;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      live_child.store(-1);
      pid_ = -1;
      error = "bentos-driver-host exited before its sockets accepted; its log:\n" + log_text();
      return false;
    }
    if (monotonic_ns() > deadline) {
      error = "socket " + socket(devices_[next]) + " did not accept within " + std::to_string(timeout_ms) +
              " ms; host log:\n" + log_text();
      return false;
    }
    // Short naps, not a spin: on two cores a spinning prober would take
    // the CPU the starting host needs.
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  if (ready_ns) *ready_ns = monotonic_ns();
  return true;
}

bool HostProcess::stop() {
  if (pid_ <= 0) return false;
  live_child.store(-1);
  ::kill(pid_, SIGTERM);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string HostProcess::log_text() const {
  std::ifstream in(dir_ + "/host.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

HostProcess::~HostProcess() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

}  // namespace bentos::bench
