// One device's plugin instance: create() with the device's JSON config,
// destroy() when the device goes away, and the bentos_host handle the
// plugin uses to reach the host services.
//
// Owned by its Device, or, while a reload runs create() or destroy() off
// the loop, by that LifecycleJob (plugin/lifecycle.h). prepare(), open()
// and begin_destroy() belong to the loop thread; run_create() and
// run_destroy() may run on any thread, never two at once for one instance.
// The destructor (begin_destroy() then run_destroy()) runs on the loop
// thread, or on any thread once the loop has closed the gate of an
// instance that was never open(): off the loop every timer start waits
// behind the gate, so no timer of it can exist.
#pragma once

#include <uv.h>

#include <memory>
#include <string>

#include "plugin/bentos_host.h"
#include "plugin/library.h"

namespace bentos::plugin {

class PluginInstance {
 public:
  // Loop thread. An instance whose create() has not run yet: its host
  // handle is bound to `loop` (the calling thread is taken for the loop
  // thread, so services called from elsewhere post to it).
  static std::unique_ptr<PluginInstance> prepare(std::shared_ptr<PluginLibrary> library, const std::string& device,
                                                 const std::string& config_json, uv_loop_t* loop,
                                                 std::shared_ptr<loop::LoopInbox> inbox);
  // Loop thread: prepare() and run_create() in one go (startup, --check).
  // On failure returns nullptr and sets `error`.
  static std::unique_ptr<PluginInstance> create(std::shared_ptr<PluginLibrary> library,
                                                const std::string& device,
                                                const std::string& config_json, uv_loop_t* loop,
                                                std::shared_ptr<loop::LoopInbox> inbox, std::string& error);
  ~PluginInstance();
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  // Any thread, once. Calls the plugin's create(); false with `error` set
  // to a sentence naming the device, the plugin and its message.
  bool run_create(std::string& error);
  // Loop thread. The device serves it: tasks and timers the plugin asked
  // for during create() start now.
  void open();
  // Loop thread. Ends the instance's host side before destroy(): queued
  // posts and timer starts are dropped, and its timers stop, so nothing
  // runs into a destroyed plugin. Idempotent.
  void begin_destroy();
  // Any thread, after begin_destroy(). Calls the plugin's destroy() (once,
  // and only after a successful create).
  void run_destroy();

  void* handle() const { return instance_; }
  const PluginLibrary& library() const { return *library_; }
  const std::shared_ptr<PluginLibrary>& library_ref() const { return library_; }
  bentos_host* host() { return &host_; }
  const std::string& device() const { return host_.device; }
  // The barrier this instance's plugin code runs behind (guard.h).
  const std::shared_ptr<loop::PluginGuard>& guard() const { return host_.guard; }
  // The gate of this instance's posted tasks (the loop closes it when it
  // gives up on an instance a job still owns).
  const std::shared_ptr<TaskGate>& gate() const { return host_.gate; }

 private:
  PluginInstance() = default;

  std::shared_ptr<PluginLibrary> library_;
  std::string config_json_;
  bentos_host host_;
  void* instance_ = nullptr;
  bool created_ = false;  // destroy() only follows a successful create()
  bool ending_ = false;   // begin_destroy() ran
};

}  // namespace bentos::plugin
