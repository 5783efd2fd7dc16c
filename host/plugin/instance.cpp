#include "plugin/instance.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "plugin/services.h"
#include "util/log.h"

namespace bentos::plugin {

std::unique_ptr<PluginInstance> PluginInstance::prepare(std::shared_ptr<PluginLibrary> library,
                                                        const std::string& device, const std::string& config_json,
                                                        uv_loop_t* loop, std::shared_ptr<loop::LoopInbox> inbox) {
  std::unique_ptr<PluginInstance> self(new PluginInstance());
  self->library_ = std::move(library);
  self->config_json_ = config_json;
  self->host_.device = device;
  self->host_.loop = loop;
  self->host_.inbox = std::move(inbox);
  self->host_.guard = std::make_shared<loop::PluginGuard>(device, self->library_->path());
  self->host_.timers = std::make_unique<TimerSet>(loop, self->host_.guard);
  // Set here, not in run_create(): during a reload create() runs on a
  // lifecycle thread, and the services must still know the real loop.
  self->host_.loop_thread = std::this_thread::get_id();
  return self;
}

std::unique_ptr<PluginInstance> PluginInstance::create(std::shared_ptr<PluginLibrary> library,
                                                       const std::string& device,
                                                       const std::string& config_json, uv_loop_t* loop,
                                                       std::shared_ptr<loop::LoopInbox> inbox,
                                                       std::string& error) {
  auto self = prepare(std::move(library), device, config_json, loop, std::move(inbox));
  if (!self->run_create(error)) return nullptr;
  return self;
}

bool PluginInstance::run_create(std::string& error) {
  char errbuf[512];
  std::memset(errbuf, 0, sizeof errbuf);
  void* instance = nullptr;
  // Behind the instance's barrier: an exception must not cross the C ABI
  // into the host (behavior.md §1.9).
  const uint64_t thrown_before = host_.guard->exceptions();
  const int64_t rc = host_.guard->run("create", [&] {
    return library_->descriptor().create(&host_, host_services(), config_json_.data(), config_json_.size(),
                                         &instance, errbuf, sizeof errbuf);
  });
  if (host_.guard->exceptions() > thrown_before && !errbuf[0]) {
    std::snprintf(errbuf, sizeof errbuf, "create() threw a C++ exception");
  }
  errbuf[sizeof errbuf - 1] = '\0';
  if (rc != 0) {
    error = "device '" + host_.device + "': plugin " + library_->path() + " (" + library_->name() +
            ") refused its config: " + (errbuf[0] ? errbuf : std::strerror(static_cast<int>(rc < 0 ? -rc : rc)));
    return false;
  }
  instance_ = instance;
  created_ = true;
  return true;
}

void PluginInstance::open() { host_.gate->open(); }

void PluginInstance::begin_destroy() {
  if (ending_) return;
  ending_ = true;
  // Queued posts and timer starts are dropped from here on, and timers
  // stop first: nothing may run into a destroyed instance.
  host_.gate->close();
  if (host_.timers) host_.timers->stop_all();
}

void PluginInstance::run_destroy() {
  if (!created_) return;
  created_ = false;
  if (!library_->descriptor().destroy) return;
  host_.guard->run("destroy", [&] { library_->descriptor().destroy(instance_); });
}

PluginInstance::~PluginInstance() {
  begin_destroy();
  run_destroy();
}

}  // namespace bentos::plugin
