// What every pattern driver of a device needs: the plugin instance, the
// call tracker, the executor its callbacks run on, and the device's spec
// (limits, read_when_empty).
//
// Owned by the Device, which outlives its driver; loop thread only.
#pragma once

#include <functional>
#include <memory>

#include "config/manifest.h"
#include "plugin/instance.h"
#include "plugin/loop_inbox.h"
#include "session/call_tracker.h"
#include "session/executor.h"

namespace bentos::session {

struct DriverContext {
  plugin::PluginInstance& instance;
  std::shared_ptr<CallTracker> calls;
  Executor& exec;
  const config::DeviceSpec& spec;
  std::shared_ptr<plugin::LoopInbox> inbox;

  void* plugin_instance() const { return instance.handle(); }

  // Runs a plugin callback whose result nobody waits for (session_end,
  // on_writable, on_drain, on_cancel...) on `strand`, in order with the
  // strand's other callbacks.
  void run_detached(StrandKey strand, std::function<void()> callback) const {
    exec.submit(
        strand,
        [callback = std::move(callback)]() -> int64_t {
          callback();
          return 0;
        },
        [](int64_t) {});
  }
  const std::string& device() const { return instance.device(); }
};

}  // namespace bentos::session
