#include "plugin/instance.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "plugin/calls.h"
#include "util/log.h"

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
  self->host_.guard = std::make_shared<PluginGuard>(device);
  self->host_.timers = std::make_unique<TimerSet>(loop, self->host_.guard);
  self->host_.loop_thread = std::this_thread::get_id();  // instances are created on the loop thread

  char errbuf[512];
  std::memset(errbuf, 0, sizeof errbuf);
  void* instance = nullptr;
  const int64_t rc = self->host_.guard->run("create", [&] {
    return self->library_->descriptor().create(&self->host_, host_services(), config_json.data(), config_json.size(),
                                               &instance, errbuf, sizeof errbuf);
  });
  if (rc == -EIO && !errbuf[0] && self->host_.guard->exceptions() > 0) {
    std::snprintf(errbuf, sizeof errbuf, "create() threw a C++ exception");
  }
  errbuf[sizeof errbuf - 1] = '\0';
  if (rc != 0) {
    error = "device '" + device + "': plugin " + self->library_->path() + " (" + self->library_->name() +
            ") refused its config: " + (errbuf[0] ? errbuf : std::strerror(static_cast<int>(rc < 0 ? -rc : rc)));
    self->host_.timers->stop_all();
    return nullptr;
  }
  self->instance_ = instance;
  self->created_ = true;
  return self;
}

PluginInstance::~PluginInstance() {
  // Queued posts and timer starts are dropped from here on, and timers
  // stop first: nothing may run into a destroyed instance.
  host_.alive->store(false);
  if (host_.timers) host_.timers->stop_all();
  if (created_ && library_->descriptor().destroy) {
    host_.guard->run("destroy", [&] { library_->descriptor().destroy(instance_); });
  }
}

}  // namespace bentos::plugin
