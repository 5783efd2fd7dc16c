#include "daemon/host.h"

#include <unistd.h>

#include "daemon/reload_run.h"
#include "daemon/threading_check.h"
#include "plugin/trust.h"
#include "util/log.h"

namespace bentos::daemon {

Host::Host(uv_loop_t* loop, Settings settings)
    : context_(loop, settings.max_connections), allow_insecure_plugins_(settings.allow_insecure_plugins) {}

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
  auto library = library_for(spec, plugin_path, error);
  if (!library) return false;
  auto device = std::make_unique<device::Device>(context_, spec, library);
  if (!device->start(listen, error)) return false;
  devices_.push_back(std::move(device));
  plugin_paths_[spec.name] = plugin_path;
  return true;
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
  reload_ = std::make_unique<ReloadRun>(*this, bound, std::move(done));
  reload_->start(wanted);
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
  while (!devices_.empty()) {
    stop_progress_->set(devices_.back()->name());
    devices_.pop_back();
  }
  stop_progress_->set("");
  context_.close();
  libraries_.clear();
}

std::vector<device::Device*> Host::devices() {
  std::vector<device::Device*> out;
  for (auto& d : devices_) out.push_back(d.get());
  return out;
}

}  // namespace bentos::daemon
