#include "daemon/host.h"

#include <unistd.h>

#include <algorithm>

#include "plugin/trust.h"
#include "util/log.h"

namespace bentos::daemon {

Host::Host(uv_loop_t* loop, Settings settings)
    : context_(loop, settings.max_connections), allow_insecure_plugins_(settings.allow_insecure_plugins) {}

Host::~Host() { stop(); }

bool Host::add_device(const config::DeviceSpec& spec, const std::string& plugin_path, bool listen,
                      std::string& error) {
  std::shared_ptr<plugin::PluginLibrary>& library = libraries_[plugin_path];
  if (!library) {
    std::string untrusted;
    if (!plugin::plugin_file_trusted(plugin_path, ::geteuid(), untrusted)) {
      if (!allow_insecure_plugins_) {
        libraries_.erase(plugin_path);
        error = "device '" + spec.name + "': plugin " + plugin_path + ": refusing to load it: " + untrusted +
                "; or, for a development tree only, start the host with --allow-insecure-plugins";
        return false;
      }
      log::warn(spec.name, "plugin " + plugin_path + " is insecure: " + untrusted +
                               "; loading it anyway (--allow-insecure-plugins)");
    }
    library = plugin::PluginLibrary::load(plugin_path, error);
    if (!library) {
      libraries_.erase(plugin_path);
      error = "device '" + spec.name + "': " + error;
      return false;
    }
  }
  auto device = std::make_unique<session::Device>(context_, spec, library);
  if (!device->start(listen, error)) return false;
  devices_.push_back(std::move(device));
  plugin_paths_[spec.name] = plugin_path;
  return true;
}

Host::ReloadReport Host::reload(const std::vector<DeviceConfig>& wanted) {
  ReloadReport report;
  std::map<std::string, const DeviceConfig*> by_name;
  for (const auto& w : wanted) by_name[w.spec.name] = &w;
  // Stop what is gone or changed first, so a changed device can rebind its socket.
  std::vector<const DeviceConfig*> to_start;
  for (auto it = devices_.begin(); it != devices_.end();) {
    const std::string name = (*it)->name();
    auto found = by_name.find(name);
    if (found != by_name.end() && found->second->spec == (*it)->spec() &&
        found->second->plugin_path == plugin_paths_[name] && !(*it)->library().file_replaced()) {
      report.unchanged.push_back(name);
      by_name.erase(found);
      ++it;
      continue;
    }
    (found == by_name.end() ? report.removed : report.restarted).push_back(name);
    plugin_paths_.erase(name);
    it = devices_.erase(it);  // stops it: connections close, sessions end
  }
  release_unused_libraries();
  for (const auto& w : wanted) {
    if (!by_name.count(w.spec.name)) continue;
    const bool restarted =
        std::find(report.restarted.begin(), report.restarted.end(), w.spec.name) != report.restarted.end();
    std::string error;
    if (!add_device(w.spec, w.plugin_path, /*listen=*/true, error)) {
      report.errors.push_back(error);
      continue;
    }
    if (!restarted) report.added.push_back(w.spec.name);
  }
  return report;
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
  // Devices go in reverse order of creation; each destroys its instance
  // before the libraries it uses are unloaded below.
  while (!devices_.empty()) {
    stop_progress_->set(devices_.back()->name());
    devices_.pop_back();
  }
  stop_progress_->set("");
  context_.close();
  libraries_.clear();
}

std::vector<session::Device*> Host::devices() {
  std::vector<session::Device*> out;
  for (auto& d : devices_) out.push_back(d.get());
  return out;
}

}  // namespace bentos::daemon
