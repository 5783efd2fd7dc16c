// What every pattern driver of a device needs: the plugin instance, the
// call tracker, the executor its callbacks run on, the device's spec
// (limits, read_when_empty) and its stats (limit counters).
//
// Owned by the Device, which outlives its driver; loop thread only.
#pragma once

#include <functional>
#include <memory>

#include "config/manifest.h"
#include "patterns/completion.h"
#include "plugin/instance.h"
#include "loop/loop_inbox.h"
#include "plugin/call_tracker.h"
#include "device/device_stats.h"
#include "loop/executor.h"
#include "device/link.h"
#include "util/log.h"

namespace bentos::device {

struct DriverContext {
  plugin::PluginInstance& instance;
  std::shared_ptr<plugin::CallTracker> calls;
  loop::Executor& exec;
  const config::DeviceSpec& spec;
  std::shared_ptr<loop::LoopInbox> inbox;
  DeviceStats& stats;

  void* plugin_instance() const { return instance.handle(); }

  // Opens `s`: it enters the link at once (so a second open of the fh, or
  // max_sessions, sees it while the plugin's start runs, maybe on a
  // worker), `start` runs on its strand and marks it started, then the open
  // is answered. A failed start takes `s` out again after `on_failure`.
  void open_session(Link& link, const std::shared_ptr<Session>& s, std::function<int32_t()> start, Responder r,
                    std::function<void()> on_failure = {}) const {
    link.put(s);
    std::weak_ptr<Link> weak_link = r.link;
    exec.submit(
        s.get(), "session_start",
        [s, start = std::move(start)]() -> int64_t {
          const int32_t rc = start();
          s->started = rc >= 0;
          return rc;
        },
        [s, r, weak_link, on_failure = std::move(on_failure), device = device()](int64_t rc) {
          if (rc >= 0) return r.send(wire::Reply::opened());
          s->ended = true;  // nothing to end: the start failed
          if (on_failure) on_failure();
          if (auto l = weak_link.lock()) l->drop(s);
          if (!patterns::is_negative_errno(rc))
            log::warn(device, "plugin session_start returned " + std::to_string(rc) +
                                  ", not a negative errno (-1 to -4095); answering EIO");
          r.send(wire::Reply::error(patterns::wire_errno(rc)));
        });
  }

  // Runs a plugin callback whose result nobody waits for (session_end,
  // on_writable, on_drain, on_cancel...) on `strand`, in order with the
  // strand's other callbacks.
  using Detached = util::InlineFunction<void(), 80>;
  void run_detached(loop::StrandKey strand, const char* op, Detached callback) const {
    exec.submit(
        strand, op,
        [callback = std::move(callback)]() -> int64_t {
          callback();
          return 0;
        },
        nullptr);
  }
  const std::string& device() const { return instance.device(); }
};

}  // namespace bentos::device
