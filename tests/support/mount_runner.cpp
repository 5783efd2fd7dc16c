#include "mount_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <doctest/doctest.h>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "daemon_runner.h"

namespace bentos::test {

namespace {

namespace fs = std::filesystem;

pid_t spawn_logged(const std::vector<std::string>& args, const std::string& output_path) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const int fd = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

int decode_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

std::string unescape_mountinfo(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      const std::string digits = text.substr(i + 1, 3);
      if (digits.find_first_not_of("01234567") == std::string::npos) {
        out.push_back(static_cast<char>(std::stoi(digits, nullptr, 8)));
        i += 3;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

}  // namespace

std::string mount_path() { return build_dir() + "/tools/mount/bentos-mount"; }

std::string find_program(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream s(path);
    for (std::string dir; std::getline(s, dir, ':');)
      if (!dir.empty()) dirs.push_back(dir);
  }
  for (const char* dir : {"/usr/local/bin", "/usr/bin", "/bin"}) dirs.emplace_back(dir);
  for (const auto& dir : dirs) {
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

bool is_mounted(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mountpoint;
    fields >> id >> parent >> devno >> root >> mountpoint;
    if (unescape_mountinfo(mountpoint) == path) return true;
  }
  return false;
}

void force_unmount(const std::string& path) {
  if (!is_mounted(path)) return;
  if (::umount2(path.c_str(), MNT_DETACH) == 0) return;
  const std::string fusermount = find_program("fusermount3");
  if (fusermount.empty()) return;
  std::string out;
  run_program({fusermount, "-u", "-z", path}, out, 5000);
}

MountRunner::MountRunner(std::vector<std::string> args, const std::string& probe, int timeout_ms) {
  dir_ = make_temp_dir("bentos-mount");
  mountpoint_ = dir_ + "/mnt";
  log_path_ = dir_ + "/mount.log";
  ::mkdir(mountpoint_.c_str(), 0755);
  std::vector<std::string> argv = {mount_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(mountpoint_);
  pid_ = spawn_logged(argv, log_path_);
  const std::string target = mountpoint_ + "/" + probe;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    struct stat st{};
    if (is_mounted(mountpoint_) && ::stat(target.c_str(), &st) == 0) {
      ready_ = true;
      break;
    }
    if (!running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

MountRunner::~MountRunner() {
  // Like DaemonRunner: a clean exit on SIGTERM is checked too (a crash, a
  // hang or a sanitizer report would spoil it).
  const bool was_running = running();
  const int status = stop();
  if (was_running) CHECK_MESSAGE(status == 0, "bentos-mount exited with " << status << "; its log:\n" << log());
  force_unmount(mountpoint_);
  // Never recurse into a mount that is somehow still there.
  if (!is_mounted(mountpoint_) && !std::getenv("BENTOS_KEEP_TEST_DIRS")) remove_tree(dir_);
}

std::string MountRunner::log() const {
  std::ifstream in(log_path_);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool MountRunner::running() const {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
  exit_status_ = decode_status(status);
  pid_ = -1;
  return false;
}

int MountRunner::stop(int signum, int timeout_ms) {
  if (!running()) return exit_status_;
  ::kill(pid_, signum);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return exit_status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  exit_status_ = -1;
  return -1;
}

int MountRunner::wait_exit(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  do {
    if (!running()) return exit_status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (std::chrono::steady_clock::now() < deadline);
  return -1;
}

std::string fuse_unavailable_reason() {
  static const std::string reason = [] {
    if (::access(mount_path().c_str(), X_OK) != 0) return std::string("bentos-mount was not built (libfuse3 missing)");
    const int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
    if (fd < 0) return std::string("cannot open /dev/fuse: ") + std::strerror(errno);
    ::close(fd);
    // A probe mount of one device whose socket does not exist (sockets are
    // only connected on open). Only a refused mount means "unusable"; any
    // other failure is left for the tests to report.
    MountRunner probe({"--device", "probe=unix:///nonexistent/bentos-probe.sock"}, "probe");
    if (probe.ready()) return std::string();
    const std::string log = probe.log();
    if (log.find("cannot mount") != std::string::npos || log.find("/dev/fuse") != std::string::npos) {
      std::string line = log.substr(0, log.find('\n'));
      return "FUSE mounts are not permitted here: " + line;
    }
    return std::string();
  }();
  return reason;
}

}  // namespace bentos::test
