// What every pattern driver of a device needs: the plugin instance, the
// call tracker, the executor its callbacks run on, and the device's spec
// (limits, read_when_empty).
//
// Owned by the Device, which outlives its driver; loop thread only.
#pragma once

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
  const std::string& device() const { return instance.device(); }
};

}  // namespace bentos::session
