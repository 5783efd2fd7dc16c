#include "daemon/reload_run.h"

#include <map>

#include "util/log.h"

namespace bentos::daemon {

using plugin::LifecycleJob;

ReloadRun::ReloadRun(Host& host, std::chrono::milliseconds bound, Host::ReloadDone done)
    : host_(host), bound_(bound), done_(std::move(done)) {}

ReloadRun::~ReloadRun() { cancel(); }

void ReloadRun::start(const std::vector<Host::DeviceConfig>& wanted) {
  std::map<std::string, const Host::DeviceConfig*> by_name;
  for (const auto& w : wanted) by_name[w.spec.name] = &w;
  // Take down what is gone or changed first, so a changed device can
  // rebind its socket once its new instance exists.
  std::vector<std::string> going;
  for (device::Device* d : host_.devices()) {
    const std::string& name = d->name();
    auto found = by_name.find(name);
    if (found != by_name.end() && found->second->spec == d->spec() &&
        found->second->plugin_path == host_.plugin_paths_[name] && !d->library().file_replaced()) {
      report_.unchanged.push_back(name);
      by_name.erase(found);
      continue;
    }
    (found == by_name.end() ? report_.removed : report_.restarted).push_back(name);
    going.push_back(name);
  }
  for (const std::string& name : going) {
    auto track = std::make_unique<Track>();
    track->name = name;
    track->old = host_.take_down(name);
    tracks_.push_back(std::move(track));
  }
  for (const auto& w : wanted) {
    if (!by_name.count(w.spec.name)) continue;  // unchanged
    Track* track = nullptr;
    for (auto& t : tracks_) {
      if (t->name == w.spec.name) track = t.get();
    }
    if (!track) {
      tracks_.push_back(std::make_unique<Track>());
      track = tracks_.back().get();
      track->name = w.spec.name;
    }
    track->next = w;
  }
  open_tracks_ = tracks_.size();
  for (auto& t : tracks_) advance(*t);
  // Nothing to wait for (or everything failed at once): still answered
  // from the loop, never inside Host::reload().
  if (open_tracks_ == 0) all_done();
}

void ReloadRun::advance(Track& track) {
  if (over_) return;
  if (track.old) {
    track.job = LifecycleJob::start(host_.context().loop(), host_.context().inbox(), LifecycleJob::Hook::destroy,
                                    std::move(track.old), bound_, [this, &track](LifecycleJob::Outcome outcome) {
                                      track.job.reset();
                                      host_.release_unused_libraries();
                                      if (outcome.timed_out) {
                                        // The old instance may still hold what the new one needs.
                                        std::string error = outcome.error;
                                        if (track.next) error += "; the device was not started again";
                                        report_.errors.push_back(error);
                                        track.next.reset();
                                      }
                                      advance(track);
                                    });
    return;
  }
  if (track.next && !track.started) return create(track);
  finish(track);
}

void ReloadRun::create(Track& track) {
  const Host::DeviceConfig& config = *track.next;
  LifecycleJob::Hook busy;
  if (LifecycleJob::given_up_still_running(track.name, &busy)) {
    // An earlier reload gave up on this device's create() or destroy(),
    // which still runs: a second instance must not start beside it.
    report_.errors.push_back("device '" + track.name + "': its plugin " + LifecycleJob::hook_name(busy) +
                             " from an earlier reload is still running; not started (reload again later)");
    track.next.reset();
    return finish(track);
  }
  std::string error;
  track.library = host_.library_for(config.spec, config.plugin_path, error);
  if (!track.library) {
    report_.errors.push_back(error);
    track.next.reset();
    return finish(track);
  }
  auto instance = plugin::PluginInstance::prepare(track.library, config.spec.name, config.spec.config_json,
                                                  host_.context().loop(), host_.context().inbox());
  track.job = LifecycleJob::start(host_.context().loop(), host_.context().inbox(), LifecycleJob::Hook::create,
                                  std::move(instance), bound_,
                                  [this, &track](LifecycleJob::Outcome outcome) { created(track, std::move(outcome)); });
}

void ReloadRun::created(Track& track, LifecycleJob::Outcome outcome) {
  track.job.reset();
  if (!outcome.instance) {
    report_.errors.push_back(outcome.error);
    track.next.reset();
    track.library.reset();
    host_.release_unused_libraries();
    return finish(track);
  }
  std::string error;
  if (host_.adopt(*track.next, std::move(track.library), outcome.instance, error)) {
    track.started = true;
    return finish(track);
  }
  // Its socket could not be opened, say: the instance is destroyed off the
  // loop like any other.
  report_.errors.push_back(error);
  track.next.reset();
  track.old = std::move(outcome.instance);
  advance(track);
}

void ReloadRun::finish(Track& track) {
  if (track.done) return;
  track.done = true;
  if (--open_tracks_ == 0) all_done();
}

void ReloadRun::all_done() {
  if (over_) return;
  over_ = true;
  host_.release_unused_libraries();
  // A device started counts as added unless it was running before.
  for (const auto& t : tracks_) {
    if (!t->started) continue;
    bool restarted = false;
    for (const auto& r : report_.restarted) restarted = restarted || r == t->name;
    if (!restarted) report_.added.push_back(t->name);
  }
  // Answered once the current callback has unwound: done_ may start the
  // next reload, and the host drops this run first. Dropped, unanswered,
  // if the host stops before.
  struct Answer {
    Host::ReloadDone done;
    Host::ReloadReport report;
  };
  auto answer = std::make_shared<Answer>(Answer{std::move(done_), std::move(report_)});
  host_.context().inbox()->post([host = &host_, answer] {
    auto self = std::move(host->reload_);
    self.reset();
    answer->done(std::move(answer->report));
  });
}

void ReloadRun::cancel() {
  over_ = true;
  for (auto& t : tracks_) {
    if (t->job) t->job->abandon();
    t->job.reset();
  }
}

}  // namespace bentos::daemon
