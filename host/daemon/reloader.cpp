#include "daemon/reloader.h"

#include <exception>
#include <memory>

#include "util/log.h"

namespace bentos::daemon {

namespace {

std::string names(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& n : v) s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? std::string("none") : s;
}

}  // namespace

void Reloader::request(Answer answer) {
  if (stopped_) return;
  if (running_) {
    if (answer) queued_.push_back(std::move(answer));
    if (!next_requested_) log::info("", "reload: another reload is running; this one starts when it is done");
    next_requested_ = true;
    return;
  }
  if (answer) current_.push_back(std::move(answer));
  begin();
}

void Reloader::begin() {
  running_ = true;
  hooks_.began();
  ReloadOutcome failed;
  auto configured = std::make_shared<std::vector<std::string>>();
  std::vector<Host::DeviceConfig> devices;
  config::HostSettings settings;
  try {
    if (!hooks_.resolve(devices, settings, failed.errors)) {
      failed.rejected = true;
      log::error("", "reload: the configuration has errors; nothing changed");
      return end(failed, nullptr);
    }
  } catch (const std::exception& e) {  // e.g. a filesystem error while reading the manifests
    failed.rejected = true;
    failed.errors.push_back(std::string("reload failed: ") + e.what());
    log::error("", failed.errors.back());
    return end(failed, nullptr);
  }
  for (const auto& d : devices) configured->push_back(d.spec.name);
  // The bound as the manifests now say: an operator who raised it for a
  // slow plugin gets it for the reload that applies the change.
  const std::chrono::milliseconds bound(settings.lifecycle_timeout_ms);
  try {
    const bool started = host_.reload(devices, bound, [this, configured](Host::ReloadReport report) {
      ReloadOutcome out;
      out.added = std::move(report.added);
      out.removed = std::move(report.removed);
      out.restarted = std::move(report.restarted);
      out.unchanged = std::move(report.unchanged);
      out.errors = std::move(report.errors);
      log::info("", "reload: added " + names(out.added) + "; removed " + names(out.removed) + "; restarted " +
                        names(out.restarted) + "; unchanged " + names(out.unchanged));
      for (const auto& e : out.errors) log::error("", "reload: " + e);
      end(out, configured.get());
    });
    if (started) return;
    failed.errors.push_back("reload failed: the host is shutting down");
  } catch (const std::exception& e) {
    failed.errors.push_back(std::string("reload failed: ") + e.what());
  }
  log::error("", failed.errors.back());
  end(failed, configured.get());
}

void Reloader::end(const ReloadOutcome& outcome, const std::vector<std::string>* configured) {
  if (stopped_) return;
  running_ = false;
  hooks_.ended(configured);
  auto waiting = std::move(current_);
  current_.clear();
  // The queued reload starts before the answers go out: one answered may
  // ask for another (a client pipelining reloads), which must then queue
  // behind it rather than start beside it.
  if (next_requested_) {
    next_requested_ = false;
    current_ = std::move(queued_);
    queued_.clear();
    begin();
  }
  for (auto& answer : waiting) answer(outcome);
}

void Reloader::stop() {
  stopped_ = true;
  current_.clear();
  queued_.clear();
}

}  // namespace bentos::daemon
