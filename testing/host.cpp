// bentos::testing::host: loads the driver, starts and stops its device,
// moves the manual clock, hands out connections and the captured log.
//
// Thread: the test's thread, which is the host's loop thread; logs() and
// plugin_errors() read what any thread logged, under the log mutex.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "harness_state.h"

namespace bentos::testing {

using detail::connection_state;

host::host(const std::string& plugin_path, options opts) : state_(detail::new_state()) {
  std::string error;
  // Absolute, as the manifest the device is built from requires: a test
  // names its plugin relative to where it runs ("./kv.so").
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(plugin_path, ec);
  auto library = plugin::PluginLibrary::load(ec ? plugin_path : absolute.string(), error);
  if (!library) {
    detail::shut_down(*state_);
    throw failure("bentos::testing: " + error);
  }
  try {
    detail::start_device(*state_, std::move(library), opts);
  } catch (...) {
    detail::shut_down(*state_);
    throw;
  }
}

host::host(bentos_driver_entry_fn entry, options opts) : state_(detail::new_state()) {
  std::string error;
  auto library = plugin::PluginLibrary::from_entry(entry, "(linked into the test)", error);
  if (!library) {
    detail::shut_down(*state_);
    throw failure("bentos::testing: " + error);
  }
  try {
    detail::start_device(*state_, std::move(library), opts);
  } catch (...) {
    detail::shut_down(*state_);
    throw;
  }
}

host::~host() {
  connections_.clear();
  const auto left = detail::shut_down(*state_);
  if (left.empty() || std::uncaught_exceptions() > 0) return;
  std::fprintf(stderr, "bentos::testing: the host saw a bug in the driver under test that no op reported:\n");
  for (const auto& e : left) std::fprintf(stderr, "  %s\n", e.c_str());
  std::fprintf(stderr, "(take an expected one with host::expect_plugin_error)\n");
  std::abort();
}

connection& host::connect() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw failure(std::string("bentos::testing: socketpair: ") + std::strerror(errno));
  auto conn = std::make_shared<connection_state>();
  conn->host = state_.get();
  conn->fd = fds[0];
  std::string error;
  const std::string peer = "harness#" + std::to_string(connections_.size() + 1);
  if (!state_->device->adopt_connection(fds[1], peer, error)) {
    ::close(fds[0]);
    throw failure("bentos::testing: " + error);
  }
  state_->connections.push_back(conn);
  connections_.push_back(std::unique_ptr<connection>(new connection(conn)));
  state_->turn();
  return *connections_.back();
}

file host::open(int flags) {
  if (!first_) first_ = &connect();
  return first_->open(flags);
}

void host::advance(std::chrono::milliseconds span) {
  if (span.count() < 0) throw failure("advance: a negative span");
  state_->settle();
  state_->clock.advance(static_cast<uint64_t>(span.count()), [this] { state_->settle(); });
  state_->settle();
  state_->throw_plugin_errors();
}

uint64_t host::now_ms() const { return state_->clock.now_ms(); }

bool host::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const bool ok = state_->run_until(done, timeout);
  state_->throw_plugin_errors();
  return ok;
}

void host::settle() {
  state_->settle();
  state_->throw_plugin_errors();
}

std::vector<std::string> host::logs() const {
  std::lock_guard lock(state_->log_mutex);
  return state_->logs;
}

std::vector<std::string> host::plugin_errors() const {
  std::lock_guard lock(state_->log_mutex);
  return state_->errors;
}

void host::expect_plugin_error(std::string_view text) {
  state_->settle();
  std::lock_guard lock(state_->log_mutex);
  auto& errors = state_->errors;
  for (auto it = errors.begin(); it != errors.end(); ++it) {
    if (it->find(text) != std::string::npos) {
      errors.erase(it);
      return;
    }
  }
  std::string seen;
  for (const auto& e : errors) seen += "\n  " + e;
  throw failure("expected a plugin error containing \"" + std::string(text) + "\"; " +
                (errors.empty() ? std::string("there is none") : "there are:" + seen));
}

}  // namespace bentos::testing
