// One device's plugin instance: create() with the device's JSON config,
// destroy() when the device goes away, and the bentos_host handle the
// plugin uses to reach the host services.
//
// Owned by its Device. Created, used and destroyed on the loop thread.
#pragma once

#include <uv.h>

#include <memory>
#include <string>

#include "plugin/host_context.h"
#include "plugin/library.h"

namespace bentos::plugin {

class PluginInstance {
 public:
  // Calls the plugin's create(). On failure returns nullptr and sets
  // `error` to a sentence naming the device, the plugin and its message.
  static std::unique_ptr<PluginInstance> create(std::shared_ptr<PluginLibrary> library,
                                                const std::string& device,
                                                const std::string& config_json, uv_loop_t* loop,
                                                std::shared_ptr<LoopInbox> inbox, std::string& error);
  ~PluginInstance();
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  void* handle() const { return instance_; }
  const PluginLibrary& library() const { return *library_; }
  bentos_host* host() { return &host_; }
  const std::string& device() const { return host_.device; }
  // The barrier this instance's plugin code runs behind (guard.h).
  const std::shared_ptr<PluginGuard>& guard() const { return host_.guard; }

 private:
  PluginInstance() = default;

  std::shared_ptr<PluginLibrary> library_;
  bentos_host host_;
  void* instance_ = nullptr;
  bool created_ = false;  // destroy() only follows a successful create()
};

}  // namespace bentos::plugin
