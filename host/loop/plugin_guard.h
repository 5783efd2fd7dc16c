// The one barrier every piece of plugin code runs behind (behavior.md §1.9):
// callbacks (through the Executor), posted tasks, timer callbacks, create
// and destroy. A C++ exception that escapes a plugin (one written on the
// bare C ABI, or a bug in the authoring layer) is caught here, logged with
// the device's name and what was running, and counted; the host keeps
// serving. Without it, an exception unwinding into libuv's C frames ends
// the process (std::terminate) and takes every device down.
//
// It also marks the thread as running this device's plugin code
// (running_plugin.h), so that a crash the host cannot survive is logged
// with the device's name before the process dies.
//
// Owned by the plugin instance's bentos_host (shared with the device's
// executor). run() and exceptions() may be called from any thread.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include "loop/running_plugin.h"

namespace bentos::loop {

class PluginGuard {
 public:
  // `plugin`: the plugin file's path, for the crash report (may be empty).
  explicit PluginGuard(std::string device, std::string plugin = {})
      : device_(std::move(device)), plugin_(std::move(plugin)) {}
  PluginGuard(const PluginGuard&) = delete;
  PluginGuard& operator=(const PluginGuard&) = delete;

  // Runs plugin code `what` ("on_request", "timer callback"...; a static
  // string). Returns what `code` returns (an int64_t), or -EIO when it
  // threw; code returning void yields 0.
  template <typename Code>
  int64_t run(const char* what, Code&& code) noexcept {
    const PluginCallSite site{device_.c_str(), plugin_.empty() ? nullptr : plugin_.c_str(), what};
    const RunningPluginScope running(site);
    try {
      if constexpr (std::is_void_v<decltype(code())>) {
        code();
        return 0;
      } else {
        return static_cast<int64_t>(code());
      }
    } catch (const std::exception& e) {
      caught(what, e.what());
    } catch (...) {
      caught(what, nullptr);
    }
    return -EIO;
  }

  const std::string& device() const { return device_; }
  // How many exceptions plugin code has thrown at the host so far.
  uint64_t exceptions() const { return exceptions_.load(std::memory_order_relaxed); }

 private:
  void caught(const char* what, const char* detail) noexcept;

  const std::string device_;
  const std::string plugin_;
  std::atomic<uint64_t> exceptions_{0};
};

}  // namespace bentos::loop
