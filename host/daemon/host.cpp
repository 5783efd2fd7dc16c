#include "daemon/host.h"

namespace bentos::daemon {

Host::Host(uv_loop_t* loop, Settings settings) : context_(loop, settings.max_connections) {}

Host::~Host() { stop(); }

bool Host::add_device(const config::DeviceSpec& spec, const std::string& plugin_path, bool listen,
                      std::string& error) {
  std::shared_ptr<plugin::PluginLibrary>& library = libraries_[plugin_path];
  if (!library) {
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
  return true;
}

void Host::stop() {
  if (stopped_) return;
  stopped_ = true;
  // Devices go in reverse order of creation; each destroys its instance
  // before the libraries it uses are unloaded below.
  while (!devices_.empty()) devices_.pop_back();
  context_.close();
  libraries_.clear();
}

std::vector<session::Device*> Host::devices() {
  std::vector<session::Device*> out;
  for (auto& d : devices_) out.push_back(d.get());
  return out;
}

}  // namespace bentos::daemon
