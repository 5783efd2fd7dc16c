#include "daemon_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "plugin/trust.h"

namespace bentos::test {

namespace fs = std::filesystem;

std::string build_dir() {
  const char* dir = std::getenv("BENTOS_BUILD_DIR");
  if (!dir || !*dir) throw std::runtime_error("BENTOS_BUILD_DIR is not set (run the tests through meson test)");
  return dir;
}
std::string daemon_path() { return build_dir() + "/host/bentos-driver-host"; }
std::string plugin_dir() { return build_dir() + "/plugins"; }
std::string test_plugin_dir() { return build_dir() + "/tests/plugins"; }

std::string make_temp_dir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
  return templ;
}

void remove_tree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

namespace {

// The current environment with `extra` ("NAME=value") added, each
// replacing a variable of the same name.
std::vector<std::string> environment_with(const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& x : extra) replaced = replaced || x.substr(0, x.find('=')) == name;
    if (!replaced) out.push_back(entry);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

pid_t spawn(const std::vector<std::string>& args, const std::string& output_path,
            const std::vector<std::string>& extra_env = {}) {
  // Built before fork: the child only execs.
  const std::vector<std::string> env = environment_with(extra_env);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const int fd = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ::execve(argv[0], argv.data(), envp.data());
  ::_exit(127);
}

int wait_exit(pid_t pid, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

std::vector<std::string> base_args(const std::string& config, const std::string& socket_dir) {
  std::vector<std::string> args = {daemon_path(), "--config", config, "--plugin-dir", plugin_dir(),
                                   "--plugin-dir", test_plugin_dir(), "--socket-dir", socket_dir,
                                   // Never the system's default control socket; a test that wants
                                   // one names its own, which overrides this.
                                   "--control-socket", "none"};
  for (auto& a : trust_args()) args.push_back(a);
  return args;
}

}  // namespace

std::vector<std::string> trust_args() {
  static const std::vector<std::string> args = [] {
    std::string problem;
    const std::string probe = test_plugin_dir() + "/probe_raw.so";
    if (plugin::plugin_file_trusted(probe, ::geteuid(), problem)) return std::vector<std::string>{};
    std::fprintf(stderr, "note: the build tree fails the host's plugin trust check (%s); integration tests run "
                 "the host with --allow-insecure-plugins\n", problem.c_str());
    return std::vector<std::string>{"--allow-insecure-plugins"};
  }();
  return args;
}

DaemonRunner::DaemonRunner(const std::string& devices_json, std::vector<std::string> extra_args,
                           const std::string& reuse_dir, std::vector<std::string> extra_env) {
  owns_dir_ = reuse_dir.empty();
  dir_ = owns_dir_ ? make_temp_dir("bentos-test") : reuse_dir;
  log_path_ = dir_ + "/daemon.log";
  const std::string manifest = dir_ + "/devices.json";
  write_text(manifest, "{\"devices\": " + devices_json + "}\n");
  for (const auto& d : nlohmann::json::parse(devices_json)) device_names_.push_back(d.at("name").get<std::string>());
  auto args = base_args(manifest, dir_ + "/run");
  for (auto& a : extra_args) {
    if (auto at = a.find("@DIR@"); at != std::string::npos) a.replace(at, 5, dir_);
    args.push_back(std::move(a));
  }
  for (auto& e : extra_env)
    if (auto at = e.find("@DIR@"); at != std::string::npos) e.replace(at, 5, dir_);
  pid_ = spawn(args, log_path_, extra_env);
  // Ready when every device socket accepts a connection.
  ready_ = true;
  for (const auto& name : device_names_) {
    std::string error;
    auto c = client::Connection::connect(socket(name), error, 5000);
    if (!c) {
      ready_ = false;
      break;
    }
  }
}

DaemonRunner::~DaemonRunner() {
  // Every test also checks a clean shutdown: exit 0 on SIGTERM, which a
  // crash, a hang or a sanitizer report (leaks included) would spoil.
  const bool was_running = pid_ > 0;
  const int status = stop();
  if (was_running) CHECK_MESSAGE(status == 0, "bentos-driver-host exited with " << status << "; its log:\n" << log());
  if (owns_dir_ && !std::getenv("BENTOS_KEEP_TEST_DIRS")) remove_tree(dir_);
}

std::string DaemonRunner::socket(const std::string& device) const {
  std::string file = device;
  for (char& c : file)
    if (c == '/') c = '-';
  return dir_ + "/run/" + file + ".sock";
}

std::unique_ptr<client::Connection> DaemonRunner::connect(const std::string& device) const {
  std::string error;
  return client::Connection::connect(socket(device), error, 3000);
}

std::string DaemonRunner::log() const {
  std::ifstream in(log_path_);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool DaemonRunner::wait_for_log(const std::string& needle, int timeout_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  do {
    if (log().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

bool DaemonRunner::running() const {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  pid_ = -1;
  return false;
}

bool DaemonRunner::signal(int signum) const { return pid_ > 0 && ::kill(pid_, signum) == 0; }

int DaemonRunner::stop() {
  if (pid_ <= 0) return exit_status_;
  ::kill(pid_, SIGTERM);
  exit_status_ = wait_exit(pid_, 10000);
  pid_ = -1;
  return exit_status_;
}

int DaemonRunner::wait_end(int timeout_ms) {
  if (pid_ <= 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  do {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (std::chrono::steady_clock::now() < deadline);
  return -1;
}

std::string bentosctl_path() { return build_dir() + "/tools/bentosctl/bentosctl"; }

int run_daemon_once(const std::vector<std::string>& args, std::string& output) {
  std::vector<std::string> full = {daemon_path()};
  full.insert(full.end(), args.begin(), args.end());
  return run_program(full, output);
}

int run_program(const std::vector<std::string>& argv, std::string& output, int timeout_ms) {
  const std::string dir = make_temp_dir("bentos-run");
  const std::string out_path = dir + "/output";
  const pid_t pid = spawn(argv, out_path);
  const int status = wait_exit(pid, timeout_ms);
  std::ifstream in(out_path);
  std::ostringstream s;
  s << in.rdbuf();
  output = s.str();
  remove_tree(dir);
  return status;
}

}  // namespace bentos::test
