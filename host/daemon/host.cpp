#include "daemon/host.h"

#include <unistd.h>

#include <algorithm>

#include "daemon/reload_run.h"
#include "daemon/threading_check.h"
#include "plugin/trust.h"
#include "util/log.h"

namespace bentos::daemon {

namespace {
// How long stopping children may take together (within main's 5 s
// shutdown bound, which also covers the in-process devices after them).
constexpr std::chrono::milliseconds kChildStopBound{3000};
}  // namespace

Host::Host(uv_loop_t* loop, Settings settings)
    : context_(loop, settings.max_connections),
      allow_insecure_plugins_(settings.allow_insecure_plugins),
      child_launch_(std::move(settings.child_launch)) {}

Host::~Host() { stop(); }

std::shared_ptr<plugin::PluginLibrary> Host::library_for(const config::DeviceSpec& spec,
                                                         const std::string& plugin_path, std::string& error) {
  std::shared_ptr<plugin::PluginLibrary>& library = libraries_[plugin_path];
  // A file replaced on disk is loaded afresh even while instances of the
  // old copy live on (a reload destroys them off the loop, possibly after
  // another device already wants the new file).
  if (library && library->file_replaced()) library.reset();
  // A loop-only driver refuses workers, whichever device asks (the copy
  // stays cached for the devices that do not).
  if (library) return threading_allowed(spec, plugin_path, library->descriptor(), error) ? library : nullptr;
  std::string untrusted;
  if (!plugin::plugin_file_trusted(plugin_path, ::geteuid(), untrusted)) {
    if (!allow_insecure_plugins_) {
      libraries_.erase(plugin_path);
      error = "device '" + spec.name + "': plugin " + plugin_path + ": refusing to load it: " + untrusted +
              "; or, for a development tree only, start the host with --allow-insecure-plugins";
      return nullptr;
    }
    log::warn(spec.name, "plugin " + plugin_path + " is insecure: " + untrusted +
                             "; loading it anyway (--allow-insecure-plugins)");
  }
  library = plugin::PluginLibrary::load(plugin_path, error);
  if (!library) {
    libraries_.erase(plugin_path);
    error = "device '" + spec.name + "': " + error;
    return nullptr;
  }
  return threading_allowed(spec, plugin_path, library->descriptor(), error) ? library : nullptr;
}

bool Host::add_device(const config::DeviceSpec& spec, const std::string& plugin_path, bool listen,
                      std::string& error) {
  if (spec.isolation.mode == config::IsolationMode::process) {
    if (!listen) {
      error = "device '" + spec.name + "': an isolated device is checked in a child process, not in the host";
      return false;
    }
    return add_isolated(spec, plugin_path, -1, error);
  }
  auto library = library_for(spec, plugin_path, error);
  if (!library) return false;
  auto device = std::make_unique<device::Device>(context_, spec, library);
  if (!device->start(listen, error)) return false;
  devices_.push_back(std::move(device));
  plugin_paths_[spec.name] = plugin_path;
  return true;
}

bool Host::add_isolated(const config::DeviceSpec& spec, const std::string& plugin_path, int socket_fd,
                        std::string& error) {
  if (child_launch_.executable.empty()) {
    if (socket_fd >= 0) ::close(socket_fd);
    error = "device '" + spec.name + "': this host cannot start child processes (\"isolation\": \"process\")";
    return false;
  }
  auto device = std::make_unique<isolation::IsolatedDevice>(context_.loop(), spec, plugin_path, child_launch_,
                                                            context_.socket_handover(), socket_fd);
  if (!device->start(error)) return false;
  isolated_.push_back(std::move(device));
  return true;
}

void Host::stop_isolated(const std::vector<std::string>& names, std::map<std::string, int>* sockets) {
  std::vector<std::unique_ptr<isolation::IsolatedDevice>> going;
  for (auto it = isolated_.begin(); it != isolated_.end();) {
    if (std::find(names.begin(), names.end(), (*it)->name()) == names.end()) {
      ++it;
      continue;
    }
    going.push_back(std::move(*it));
    it = isolated_.erase(it);
  }
  for (auto& d : going) d->begin_stop();
  // Each child stops its device as an in-process one stops (sessions end,
  // destroy() runs); past the bound it is killed.
  const auto deadline = std::chrono::steady_clock::now() + kChildStopBound;
  for (auto& d : going) {
    stop_progress_->set(d->name());
    d->finish_stop(deadline, sockets != nullptr);
    if (sockets) (*sockets)[d->name()] = d->release_socket();
  }
  stop_progress_->set("");
}

std::vector<Host::DeviceConfig> Host::reload_isolated(const std::vector<DeviceConfig>& wanted,
                                                      ReloadReport& report) {
  std::vector<DeviceConfig> in_process;
  std::map<std::string, const DeviceConfig*> isolated_wanted;
  for (const auto& w : wanted) {
    if (w.spec.isolation.mode == config::IsolationMode::process) isolated_wanted[w.spec.name] = &w;
    else in_process.push_back(w);
  }
  std::vector<std::string> going, restarting;
  for (auto& d : isolated_) {
    auto found = isolated_wanted.find(d->name());
    if (found == isolated_wanted.end()) {
      going.push_back(d->name());
      // Now in-process: ReloadRun reports it added.
      if (std::none_of(in_process.begin(), in_process.end(),
                       [&](const DeviceConfig& c) { return c.spec.name == d->name(); }))
        report.removed.push_back(d->name());
    } else if (found->second->spec == d->spec() && found->second->plugin_path == d->plugin_path() &&
               !d->plugin_file_replaced()) {
      report.unchanged.push_back(d->name());  // keeps its child and sessions
      isolated_wanted.erase(found);
    } else {
      restarting.push_back(d->name());
    }
  }
  // Gone or now in-process: the socket closes (an in-process successor
  // binds its own). Changed: the new child serves the same socket, so no
  // client is refused across the restart.
  stop_isolated(going, nullptr);
  std::map<std::string, int> sockets;
  stop_isolated(restarting, &sockets);
  for (const auto& w : wanted) {
    if (!isolated_wanted.count(w.spec.name)) continue;
    const auto kept = sockets.find(w.spec.name);
    const int fd = kept == sockets.end() ? -1 : kept->second;
    // An in-process device of that name is taken down by ReloadRun, which
    // has not run yet: its socket must close before this one binds.
    if (fd < 0) {
      if (auto instance = take_down(w.spec.name)) {
        report.removed.push_back(w.spec.name);
        instance.reset();  // its destroy(), here: the device's name is needed now
      }
    }
    std::string error;
    if (!add_isolated(w.spec, w.plugin_path, fd, error)) {
      report.errors.push_back(error);
      continue;
    }
    (kept == sockets.end() ? report.added : report.restarted).push_back(w.spec.name);
  }
  return in_process;
}

bool Host::adopt(const DeviceConfig& config, std::shared_ptr<plugin::PluginLibrary> library,
                 std::unique_ptr<plugin::PluginInstance>& instance, std::string& error) {
  auto device = std::make_unique<device::Device>(context_, config.spec, std::move(library));
  if (!device->start_with(std::move(instance), /*listen=*/true, error)) {
    instance = device->stop_serving();
    return false;
  }
  devices_.push_back(std::move(device));
  plugin_paths_[config.spec.name] = config.plugin_path;
  return true;
}

std::unique_ptr<plugin::PluginInstance> Host::take_down(const std::string& name) {
  for (auto it = devices_.begin(); it != devices_.end(); ++it) {
    if ((*it)->name() != name) continue;
    auto instance = (*it)->stop_serving();  // connections close, sessions end
    devices_.erase(it);
    plugin_paths_.erase(name);
    return instance;
  }
  return nullptr;
}

bool Host::reload(const std::vector<DeviceConfig>& wanted, std::chrono::milliseconds bound, ReloadDone done) {
  if (reload_ || stopped_) return false;
  ReloadReport isolated;
  const std::vector<DeviceConfig> in_process = reload_isolated(wanted, isolated);
  reload_ = std::make_unique<ReloadRun>(*this, bound, [done = std::move(done), isolated](ReloadReport report) {
    for (auto [from, to] : {std::pair{&isolated.added, &report.added}, std::pair{&isolated.removed, &report.removed},
                            std::pair{&isolated.restarted, &report.restarted},
                            std::pair{&isolated.unchanged, &report.unchanged},
                            std::pair{&isolated.errors, &report.errors}})
      to->insert(to->end(), from->begin(), from->end());
    done(std::move(report));
  });
  reload_->start(in_process);
  return true;
}

void Host::release_unused_libraries() {
  for (auto it = libraries_.begin(); it != libraries_.end();) {
    if (it->second.use_count() == 1) it = libraries_.erase(it);  // unloads it
    else ++it;
  }
}

void Host::stop() {
  if (stopped_) return;
  stopped_ = true;
  // A reload in flight stops waiting: its lifecycle threads finish on their
  // own (main() lets them, within the shutdown bound).
  if (reload_) reload_->cancel();
  reload_.reset();
  // Devices go in reverse order of creation; each destroys its instance
  // before the libraries it uses are unloaded below.
  std::vector<std::string> isolated;
  for (auto& d : isolated_) isolated.push_back(d->name());
  stop_isolated(isolated, nullptr);
  while (!devices_.empty()) {
    stop_progress_->set(devices_.back()->name());
    devices_.pop_back();
  }
  stop_progress_->set("");
  context_.close();
  libraries_.clear();
}

std::vector<isolation::IsolatedDevice*> Host::isolated_devices() {
  std::vector<isolation::IsolatedDevice*> out;
  for (auto& d : isolated_) out.push_back(d.get());
  return out;
}

std::vector<device::Device*> Host::devices() {
  std::vector<device::Device*> out;
  for (auto& d : devices_) out.push_back(d.get());
  return out;
}

}  // namespace bentos::daemon
