#include "plugin/instance.h"

#include <cstring>

#include "plugin/calls.h"

namespace bentos::plugin {

std::unique_ptr<PluginInstance> PluginInstance::create(std::shared_ptr<PluginLibrary> library,
                                                       const std::string& device,
                                                       const std::string& config_json, uv_loop_t* loop,
                                                       std::shared_ptr<LoopInbox> inbox,
                                                       std::string& error) {
  std::unique_ptr<PluginInstance> self(new PluginInstance());
  self->library_ = std::move(library);
  self->host_.device = device;
  self->host_.loop = loop;
  self->host_.inbox = std::move(inbox);
  self->host_.timers = std::make_unique<TimerSet>(loop);

  char errbuf[512];
  std::memset(errbuf, 0, sizeof errbuf);
  void* instance = nullptr;
  const int32_t rc = self->library_->descriptor().create(&self->host_, host_services(), config_json.data(),
                                                         config_json.size(), &instance, errbuf, sizeof errbuf);
  errbuf[sizeof errbuf - 1] = '\0';
  if (rc != 0) {
    error = "device '" + device + "': plugin " + self->library_->path() + " (" + self->library_->name() +
            ") refused its config: " + (errbuf[0] ? errbuf : std::strerror(rc < 0 ? -rc : rc));
    self->host_.timers->stop_all();
    return nullptr;
  }
  self->instance_ = instance;
  self->created_ = true;
  return self;
}

PluginInstance::~PluginInstance() {
  // Timers first: none may fire into a destroyed instance.
  if (host_.timers) host_.timers->stop_all();
  if (created_ && library_->descriptor().destroy) library_->descriptor().destroy(instance_);
}

}  // namespace bentos::plugin
