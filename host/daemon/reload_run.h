// One reload in progress (Host::reload): the plan, and each touched
// device's steps. A device that goes or changes stops serving at once (its
// socket, connections and sessions close on the loop); then, off the loop,
// its plugin's destroy() runs, and for a changed or new device the new
// instance's create() (after the destroy: a plugin holding an exclusive
// resource never has two instances at once); back on the loop, the new
// device starts serving. Devices are handled in parallel, each step bounded
// by the reload's bound; the loop keeps serving everything else meanwhile.
//
// Owned by the Host while it runs; loop thread only.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/host.h"
#include "plugin/lifecycle.h"

namespace bentos::daemon {

class ReloadRun {
 public:
  ReloadRun(Host& host, std::chrono::milliseconds bound, Host::ReloadDone done);
  ~ReloadRun();
  ReloadRun(const ReloadRun&) = delete;
  ReloadRun& operator=(const ReloadRun&) = delete;

  // Plans the reload, takes down what goes or changes, starts the steps.
  void start(const std::vector<Host::DeviceConfig>& wanted);
  // The host is stopping: no step starts any more and `done` never runs;
  // threads still in a plugin hook finish on their own.
  void cancel();

 private:
  // One touched device: what to destroy, then what to create.
  struct Track {
    std::string name;
    std::unique_ptr<plugin::PluginInstance> old;  // its destroy() is next
    std::optional<Host::DeviceConfig> next;       // then this one's create()
    std::shared_ptr<plugin::PluginLibrary> library;
    std::shared_ptr<plugin::LifecycleJob> job;    // the step running now
    bool started = false;                         // `next` serves
    bool done = false;
  };

  void advance(Track& track);
  void create(Track& track);
  void created(Track& track, plugin::LifecycleJob::Outcome outcome);
  void finish(Track& track);
  void all_done();

  Host& host_;
  const std::chrono::milliseconds bound_;
  Host::ReloadDone done_;
  Host::ReloadReport report_;
  std::vector<std::unique_ptr<Track>> tracks_;  // manifest order; stable addresses
  size_t open_tracks_ = 0;
  bool over_ = false;  // cancelled, or answered: nothing more happens
};

}  // namespace bentos::daemon
