// The Host: everything one bentos-driver-host process serves. Owns the
// shared context (loop inbox, write batching, connection limit), the loaded
// plugin files (one load per file, shared by its devices) and the devices.
// Nothing here is global, so tests can build a Host in process.
//
// Owned by main() (or a test); loop thread only.
#pragma once

#include <uv.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/manifest.h"
#include "plugin/library.h"
#include "session/device.h"
#include "session/host_context.h"

namespace bentos::daemon {

class Host {
 public:
  struct Settings {
    uint64_t max_connections = 1024;  // host-wide (behavior.md §1 limits)
  };

  Host(uv_loop_t* loop, Settings settings);
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // Loads `plugin_path` (once per file) and starts the device; with
  // `listen` false the plugin instance is created but no socket opened
  // (--check). On failure `error` names the device and the cause.
  bool add_device(const config::DeviceSpec& spec, const std::string& plugin_path, bool listen, std::string& error);

  // Stops every device (closing connections, ending sessions, destroying
  // instances) and closes the shared handles; the loop can then finish.
  void stop();

  std::vector<session::Device*> devices();
  session::HostContext& context() { return context_; }

 private:
  session::HostContext context_;
  std::map<std::string, std::shared_ptr<plugin::PluginLibrary>> libraries_;  // by path
  std::vector<std::unique_ptr<session::Device>> devices_;
  bool stopped_ = false;
};

}  // namespace bentos::daemon
