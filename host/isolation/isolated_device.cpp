#include "isolation/isolated_device.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "isolation/child_process.h"
#include "isolation/child_setup.h"
#include "net/endpoint.h"
#include "net/listener.h"
#include "util/log.h"

namespace bentos::isolation {

namespace {

using Clock = std::chrono::steady_clock;

void free_handle(uv_handle_t* handle) { std::free(handle); }

template <typename T>
T* new_handle() {
  return static_cast<T*>(std::calloc(1, sizeof(T)));
}

void close_handle(uv_handle_t* handle) {
  if (handle && !uv_is_closing(handle)) uv_close(handle, free_handle);
}

uint64_t file_identity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_ino) ^ (static_cast<uint64_t>(st.st_mtim.tv_sec) << 20) ^
         static_cast<uint64_t>(st.st_mtim.tv_nsec) ^ (static_cast<uint64_t>(st.st_size) << 40);
}

std::string millis_text(std::chrono::milliseconds ms) {
  return ms.count() >= 1000 && ms.count() % 1000 == 0 ? std::to_string(ms.count() / 1000) + " s"
                                                      : std::to_string(ms.count()) + " ms";
}

}  // namespace

IsolatedDevice::IsolatedDevice(uv_loop_t* loop, config::DeviceSpec spec, std::string plugin_path, ChildLaunch launch,
                               net::SocketHandover* handover, int socket_fd, RestartPolicy policy)
    : loop_(loop),
      spec_(std::move(spec)),
      plugin_path_(std::move(plugin_path)),
      launch_(std::move(launch)),
      handover_(handover),
      policy_(policy),
      socket_fd_(socket_fd),
      next_delay_(policy.first_delay) {
  net::Endpoint endpoint;
  std::string error;
  if (net::parse_endpoint(spec_.socket, endpoint, error)) socket_path_ = endpoint.path;
}

IsolatedDevice::~IsolatedDevice() {
  if (!stopping_) begin_stop();
  finish_stop(Clock::now() + std::chrono::seconds(4));
  close_handle(reinterpret_cast<uv_handle_t*>(sigchld_));
  close_handle(reinterpret_cast<uv_handle_t*>(restart_timer_));
  close_handle(reinterpret_cast<uv_handle_t*>(heartbeat_timer_));
}

bool IsolatedDevice::start(std::string& error) {
  if (socket_path_.empty()) {
    error = "device '" + spec_.name + "': an isolated device needs a unix:// socket, found " + spec_.socket;
    return false;
  }
  if (socket_fd_ < 0 && handover_) socket_fd_ = handover_->take(socket_path_);
  if (socket_fd_ < 0) {
    net::ListenOptions options;
    options.mode = spec_.socket_mode;
    options.group = spec_.socket_group;
    socket_fd_ = net::bind_unix_socket(socket_path_, options, error);
    if (socket_fd_ < 0) {
      error = "device '" + spec_.name + "': " + error;
      return false;
    }
  }
  if (handover_) handover_->listening(socket_path_, socket_fd_);
  sigchld_ = new_handle<uv_signal_t>();
  uv_signal_init(loop_, sigchld_);
  sigchld_->data = this;
  uv_signal_start(sigchld_, on_sigchld, SIGCHLD);
  restart_timer_ = new_handle<uv_timer_t>();
  uv_timer_init(loop_, restart_timer_);
  restart_timer_->data = this;
  heartbeat_timer_ = new_handle<uv_timer_t>();
  uv_timer_init(loop_, heartbeat_timer_);
  heartbeat_timer_->data = this;
  // Often enough that a hung loop is found within the watchdog, rarely
  // enough to cost nothing: a quarter of it, at most once a second.
  const uint64_t every = std::clamp<uint64_t>(spec_.isolation.watchdog() / 4, 20, 1000);
  uv_timer_start(
      heartbeat_timer_, [](uv_timer_t* t) { static_cast<IsolatedDevice*>(t->data)->heartbeat(); }, every, every);
  spawn();
  if (pid_ < 0) {
    error = "device '" + spec_.name + "': " + last_exit_;
    return false;
  }
  return true;
}

void IsolatedDevice::spawn() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    last_exit_ = std::string("cannot create the child's channel: ") + std::strerror(errno);
    log::error(spec_.name, last_exit_);
    restart_later();
    return;
  }
  std::string error;
  plugin_identity_ = file_identity(plugin_path_);
  const pid_t pid = spawn_child(launch_.executable, launch_.arguments, socket_fd_, fds[1], error);
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    last_exit_ = error;
    log::error(spec_.name, error);
    restart_later();
    return;
  }
  pid_ = pid;
  spawned_at_ = Clock::now();
  hello_.clear();
  heartbeat_waiting_ = false;
  kill_reason_.clear();
  // The setup line first, written whole before the channel goes
  // asynchronous (the child reads it before anything else).
  const std::string setup = setup_line(ChildSetup{spec_, plugin_path_, /*check=*/false, ::getpid(), launch_.max_connections});
  if (!write_line(fds[0], setup)) log::warn(spec_.name, "child " + std::to_string(pid) + " did not take its setup");
  channel_ = std::make_unique<ChildChannel>(
      loop_, fds[0], [this](const std::string& line) { on_hello(line); }, [] {});
  log::debug(spec_.name, "started child " + std::to_string(pid));
}

void IsolatedDevice::on_hello(const std::string& line) {
  nlohmann::json hello = nlohmann::json::parse(line, nullptr, false);
  if (hello.is_object() && hello.value("ready", false)) {
    hello_ = line;
    log::info(spec_.name, "serving on " + spec_.socket + " in child process " + std::to_string(pid_) +
                              (restarts_ ? " (restart " + std::to_string(restarts_) + ")" : ""));
    return;
  }
  const std::string error = hello.is_object() && hello.contains("error") && hello["error"].is_string()
                                ? hello["error"].get<std::string>()
                                : "the child could not start its device";
  log::error(spec_.name, "child " + std::to_string(pid_) + ": " + error);
}

void IsolatedDevice::on_sigchld(uv_signal_t* handle, int) {
  auto* self = static_cast<IsolatedDevice*>(handle->data);
  if (self->pid_ <= 0) return;
  int status = 0;
  // Only our own child: other devices' children and a plugin's own
  // processes are not ours to reap.
  const pid_t got = ::waitpid(self->pid_, &status, WNOHANG);
  if (got == self->pid_) self->on_child_exit(status);
}

void IsolatedDevice::on_child_exit(int status) {
  const pid_t pid = pid_;
  pid_ = -1;
  if (channel_) channel_->close();
  channel_.reset();
  const bool was_serving = !hello_.empty();
  hello_.clear();
  last_exit_ = describe_exit(status);
  if (!kill_reason_.empty()) last_exit_ = kill_reason_ + " (" + last_exit_ + ")";
  if (stopping_) return;
  const auto lived = Clock::now() - spawned_at_;
  if (lived >= policy_.healthy_after) next_delay_ = policy_.first_delay;
  log::error(spec_.name, "child process " + std::to_string(pid) + " " + (was_serving ? "died" : "failed to start") +
                             ": " + last_exit_ + "; restarting in " + millis_text(next_delay_));
  restart_later();
}

void IsolatedDevice::restart_later() {
  if (stopping_ || !restart_timer_) return;
  const auto delay = next_delay_;
  next_delay_ = std::min(next_delay_ * 2, policy_.max_delay);
  uv_timer_start(
      restart_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<IsolatedDevice*>(t->data);
        if (self->stopping_) return;
        ++self->restarts_;
        self->restart_times_.push_back(Clock::now());
        while (self->restart_times_.size() > self->policy_.crash_loop_restarts) self->restart_times_.pop_front();
        if (self->recent_restarts() == self->policy_.crash_loop_restarts)
          log::error(self->spec_.name, "crash-looping: restarted " + std::to_string(self->recent_restarts()) +
                                           " times within " + millis_text(self->policy_.crash_loop_window) +
                                           "; restarts go on with a growing delay (fix it, then reload)");
        self->spawn();
      },
      static_cast<uint64_t>(delay.count()), 0);
}

size_t IsolatedDevice::recent_restarts() const {
  const auto since = Clock::now() - policy_.crash_loop_window;
  size_t n = 0;
  for (const auto& t : restart_times_) n += t >= since;
  return n;
}

void IsolatedDevice::heartbeat() {
  if (pid_ <= 0 || stopping_ || !kill_reason_.empty()) return;
  const auto watchdog = std::chrono::milliseconds(spec_.isolation.watchdog());
  const auto now = Clock::now();
  if (hello_.empty()) {
    // Still loading its plugin or in create(), which may take as long as a
    // reload lets it (lifecycle_timeout_ms), not just one heartbeat.
    const auto start_bound = std::max(watchdog, std::chrono::milliseconds(launch_.start_timeout_ms));
    if (now - spawned_at_ > start_bound)
      kill_child("did not start serving within " + std::to_string(start_bound.count()) + " ms");
    return;
  }
  if (channel_ && channel_->oldest_wait() > watchdog) {
    kill_child("its loop did not answer for watchdog_ms " + std::to_string(watchdog.count()));
    return;
  }
  if (heartbeat_waiting_ || !channel_) return;
  heartbeat_waiting_ = true;
  channel_->request(R"({"command":"status"})", [this](const std::string*) { heartbeat_waiting_ = false; });
}

void IsolatedDevice::kill_child(const std::string& why) {
  kill_reason_ = "killed by the watchdog: " + why;
  log::error(spec_.name, "child process " + std::to_string(pid_) + " " + why + "; killing it");
  ::kill(pid_, SIGKILL);
}

void IsolatedDevice::ask(const std::string& line, ChildChannel::AnswerFn answer) {
  if (!channel_ || hello_.empty()) {
    answer(nullptr);
    return;
  }
  channel_->request(line, std::move(answer));
}

bool IsolatedDevice::plugin_file_replaced() const { return file_identity(plugin_path_) != plugin_identity_; }

std::string IsolatedDevice::state() const {
  if (stopping_) return "stopped";
  if (recent_restarts() >= policy_.crash_loop_restarts) return "crash-looping";
  if (pid_ > 0) return hello_.empty() ? "starting" : "running";
  return "restarting";
}

void IsolatedDevice::begin_stop() {
  stopping_ = true;
  if (restart_timer_) uv_timer_stop(restart_timer_);
  if (heartbeat_timer_) uv_timer_stop(heartbeat_timer_);
  if (pid_ > 0) ::kill(pid_, SIGTERM);
}

void IsolatedDevice::finish_stop(Clock::time_point deadline, bool keep_socket) {
  stopping_ = true;
  // Blocking, bounded: shutdown and reload wait for the child to finish
  // stopping its device (its sessions end, its plugin's destroy() runs).
  while (pid_ > 0) {
    int status = 0;
    const pid_t got = ::waitpid(pid_, &status, WNOHANG);
    if (got == pid_ || (got < 0 && errno == ECHILD)) {
      on_child_exit(got == pid_ ? status : 0);
      break;
    }
    if (Clock::now() >= deadline) {
      log::error(spec_.name, "child process " + std::to_string(pid_) + " did not stop in time; killing it");
      ::kill(pid_, SIGKILL);
      deadline = Clock::now() + std::chrono::seconds(10);  // SIGKILL cannot be refused
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (channel_) channel_->close();
  channel_.reset();
  if (keep_socket || socket_fd_ < 0) return;
  const bool remove_file = handover_ ? handover_->closing(socket_path_) : true;
  if (remove_file) ::unlink(socket_path_.c_str());
  ::close(socket_fd_);
  socket_fd_ = -1;
}

int IsolatedDevice::release_socket() {
  const int fd = socket_fd_;
  socket_fd_ = -1;
  return fd;
}

}  // namespace bentos::isolation
