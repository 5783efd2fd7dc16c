// Which plugin code the current thread is running, for the one line the
// host logs when a plugin crashes it (daemon/crash_report.cpp, run from a
// signal handler on the crashing thread).
//
// PluginGuard::run marks every plugin call with a RunningPluginScope, and
// PluginLibrary marks loading and unloading a plugin file. A mark is a PluginCallSite on
// the caller's stack and one thread-local pointer store on entry and one
// on exit: this is on the path of every callback, so nothing is copied.
//
// Each thread sees only its own marks; a signal handler reads the mark of
// the thread it interrupted, which is the one that crashed.
#pragma once

#include <atomic>

namespace bentos::loop {

struct PluginCallSite {
  const char* device;  // the device's name, or null (loading or unloading a file)
  const char* plugin;  // the plugin file's path, or null
  const char* what;    // "on_request", "create", "a timer callback"...
};

// The innermost plugin call on this thread, or null. Constant-initialised
// and initial-exec, so reading it is one load at a fixed offset from the
// thread pointer: no lazy initialisation and no __tls_get_addr, which a
// signal handler could not call. It lives in the host's static libraries,
// linked into the executable, never into a plugin.
[[gnu::tls_model("initial-exec")]] inline constinit thread_local const PluginCallSite* running_plugin = nullptr;

// Marks `site` as running for its lifetime, then restores the mark that
// was there before: should plugin code ever run inside another plugin call
// on the same thread, the outer call is named again once the inner one
// returns. The site must outlive the scope. Stack-only; the owning thread
// only.
class RunningPluginScope {
 public:
  explicit RunningPluginScope(const PluginCallSite& site) noexcept : outer_(running_plugin) {
    // The site's fields are written before the pointer to them, as a
    // signal handler on this thread would see them (a compiler barrier,
    // no instruction).
    std::atomic_signal_fence(std::memory_order_release);
    running_plugin = &site;
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
  ~RunningPluginScope() {
    std::atomic_signal_fence(std::memory_order_seq_cst);
    running_plugin = outer_;
  }
  RunningPluginScope(const RunningPluginScope&) = delete;
  RunningPluginScope& operator=(const RunningPluginScope&) = delete;

 private:
  const PluginCallSite* outer_;
};

}  // namespace bentos::loop
