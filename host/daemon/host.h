// The Host: everything one bentos-driver-host process serves. Owns the
// shared context (loop inbox, write batching, connection limit), the loaded
// plugin files (one load per file, shared by its devices) and the devices.
// Nothing here is global, so tests can build a Host in process.
//
// Owned by main() (or a test); loop thread only. A reload runs plugin
// create() and destroy() on lifecycle threads (plugin/lifecycle.h) while
// the loop goes on serving; see daemon/reload_run.h.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/manifest.h"
#include "plugin/library.h"
#include "device/device.h"
#include "isolation/isolated_device.h"
#include "loop/host_context.h"

namespace bentos::daemon {

class ReloadRun;

class Host {
 public:
  struct Settings {
    uint64_t max_connections = 1024;  // host-wide (behavior.md §1 limits)
    // Load plugin files that fail the ownership and permission checks of
    // plugin/trust.h (--allow-insecure-plugins; development trees only).
    bool allow_insecure_plugins = false;
    // How isolated devices' children are started (isolation/); the
    // executable is empty in hosts that never isolate (tests, the harness).
    isolation::ChildLaunch child_launch;
  };

  Host(uv_loop_t* loop, Settings settings);
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // Checks that `plugin_path` may be trusted (plugin/trust.h, unless the
  // settings allow insecure plugins), loads it (once per file) and starts
  // the device; with
  // `listen` false the plugin instance is created but no socket opened
  // (--check). On failure `error` names the device and the cause.
  // An isolated device ("isolation": "process") gets its socket and a
  // supervised child instead; this process never loads its plugin (with
  // `listen` false it is refused: check it with isolation::check_in_child).
  bool add_device(const config::DeviceSpec& spec, const std::string& plugin_path, bool listen, std::string& error);

  // Stops every device (closing connections, ending sessions, destroying
  // instances) and closes the shared handles; the loop can then finish.
  void stop();

  // A device as the manifests now describe it, with its plugin file found.
  struct DeviceConfig {
    config::DeviceSpec spec;
    std::string plugin_path;
  };
  struct ReloadReport {
    std::vector<std::string> added, removed, restarted, unchanged;
    // Devices that could not start, and plugin create()/destroy() calls
    // that did not finish within the bound.
    std::vector<std::string> errors;
  };
  using ReloadDone = std::function<void(ReloadReport)>;
  // Brings the running devices in line with `wanted`: devices that are
  // gone stop, new ones start, changed ones restart (their sessions end),
  // unchanged ones keep running untouched. A device whose plugin file was
  // replaced on disk counts as changed, and the new file is loaded.
  //
  // Asynchronous: the sockets and sessions of the devices that go or
  // change close at once, here; their plugins' destroy() and the new
  // instances' create() run off the loop, each bounded by `bound` (one
  // device's steps in order: destroy, then create), and `done` runs on the
  // loop once every step finished or ran out of time (never inside
  // reload(); never once stop() began). One reload at a time: false, and
  // nothing done, while one runs.
  bool reload(const std::vector<DeviceConfig>& wanted, std::chrono::milliseconds bound, ReloadDone done);
  bool reloading() const { return reload_ != nullptr; }

  // The devices served in this process, and the isolated ones (each in a
  // child process of its own); a device is in exactly one of the two.
  std::vector<device::Device*> devices();
  std::vector<isolation::IsolatedDevice*> isolated_devices();
  size_t device_count() const { return devices_.size() + isolated_.size(); }
  loop::HostContext& context() { return context_; }

  // Which device stop() is stopping right now ("" when none). Shared, and
  // readable from any thread, so a shutdown watchdog can name a plugin
  // that hangs, even after the Host is gone.
  class StopProgress {
   public:
    void set(std::string device) {
      std::lock_guard<std::mutex> lock(mutex_);
      device_ = std::move(device);
    }
    std::string get() const {
      std::lock_guard<std::mutex> lock(mutex_);
      return device_;
    }

   private:
    mutable std::mutex mutex_;
    std::string device_;
  };
  std::shared_ptr<const StopProgress> stop_progress() const { return stop_progress_; }

 private:
  loop::HostContext context_;
  bool allow_insecure_plugins_;
  std::map<std::string, std::shared_ptr<plugin::PluginLibrary>> libraries_;  // by path
  std::vector<std::unique_ptr<device::Device>> devices_;
  std::vector<std::unique_ptr<isolation::IsolatedDevice>> isolated_;
  isolation::ChildLaunch child_launch_;
  bool add_isolated(const config::DeviceSpec& spec, const std::string& plugin_path, int socket_fd, std::string& error);
  // Stops the isolated devices named in `names` together (SIGTERM to every
  // child, then a bounded wait), keeping their sockets in `sockets` when
  // given (a reload's restarted devices serve them on).
  void stop_isolated(const std::vector<std::string>& names, std::map<std::string, int>* sockets);
  // The isolated part of a reload, done at once: returns the in-process
  // part for ReloadRun, and fills `report`.
  std::vector<DeviceConfig> reload_isolated(const std::vector<DeviceConfig>& wanted, ReloadReport& report);
  std::map<std::string, std::string> plugin_paths_;  // device name -> plugin file it runs
  // Unloads the plugin files no device uses any more, so a file replaced
  // on disk is loaded afresh when its devices restart.
  void release_unused_libraries();

  // For a reload (ReloadRun): the plugin file for a device, trusted and
  // loaded (once per file, and afresh when it was replaced on disk), and
  // refused when the device asks a loop-only driver for workers...
  std::shared_ptr<plugin::PluginLibrary> library_for(const config::DeviceSpec& spec, const std::string& plugin_path,
                                                     std::string& error);
  // ...a device serving an instance whose create() ran off the loop; on
  // failure the instance comes back in `instance` for its destroy()...
  bool adopt(const DeviceConfig& config, std::shared_ptr<plugin::PluginLibrary> library,
             std::unique_ptr<plugin::PluginInstance>& instance, std::string& error);
  // ...and a running device taken down but for its plugin's destroy():
  // its instance, to destroy off the loop.
  std::unique_ptr<plugin::PluginInstance> take_down(const std::string& name);
  friend class ReloadRun;
  std::unique_ptr<ReloadRun> reload_;  // the reload in progress, if any

  bool stopped_ = false;
  std::shared_ptr<StopProgress> stop_progress_ = std::make_shared<StopProgress>();
};

}  // namespace bentos::daemon
