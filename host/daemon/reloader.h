// Reloads on request (SIGHUP, the control socket's `reload`), one at a
// time: re-reads the manifests, applies them (Host::reload, which runs the
// plugins' create() and destroy() off the loop), logs what changed, and
// hands the outcome to whoever asked. A request made while a reload runs
// is queued, not refused: it starts when that one is done and re-reads the
// manifests then, so the edit that prompted it is applied; requests
// queued meanwhile share that one reload and its answer.
//
// Owned by main(); loop thread only.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "config/manifest.h"
#include "daemon/control_commands.h"
#include "daemon/host.h"

namespace bentos::daemon {

class Reloader {
 public:
  struct Hooks {
    // Reads the manifests and finds the plugin files: false, with every
    // problem in the last argument, when they have errors.
    std::function<bool(std::vector<Host::DeviceConfig>&, config::HostSettings&, std::vector<std::string>&)>
        resolve;
    std::function<void()> began;  // sd_notify RELOADING=1
    // sd_notify READY=1. `configured`: the devices the manifests now name;
    // nullptr when they were rejected (nothing changed).
    std::function<void(const std::vector<std::string>* configured)> ended;
  };
  using Answer = std::function<void(const ReloadOutcome&)>;

  Reloader(Host& host, Hooks hooks) : host_(host), hooks_(std::move(hooks)) {}
  Reloader(const Reloader&) = delete;
  Reloader& operator=(const Reloader&) = delete;

  // Starts a reload, or queues one behind the reload running. `answer` (may
  // be empty: SIGHUP) runs on the loop thread when it is done, possibly
  // before request() returns (a manifest with errors).
  void request(Answer answer);
  // Shutting down: nothing more starts and nobody waiting is answered.
  void stop();
  bool running() const { return running_; }

 private:
  void begin();
  void end(const ReloadOutcome& outcome, const std::vector<std::string>* configured);

  Host& host_;
  Hooks hooks_;
  bool running_ = false;
  bool stopped_ = false;
  std::vector<Answer> current_;  // waiting for the reload running
  std::vector<Answer> queued_;   // waiting for the next one
  bool next_requested_ = false;
};

}  // namespace bentos::daemon
