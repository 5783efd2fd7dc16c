// One plugin create() or destroy() run off the loop thread, bounded in
// time: during a reload the loop keeps serving the devices the reload does
// not touch, and a hook that hangs is given up on instead of stalling the
// host (issue 12, item 7).
//
// Ownership and threads: the LifecycleJob object is the loop's side of the
// job, owned (shared_ptr) by whoever started it, loop thread only. The hook
// runs on a short-lived thread of its own (detached), which owns the
// instance while the hook runs and hands it back through the inbox. When
// the bound runs out first, the loop stops waiting ("timed out") and the
// thread finishes on its own: a create() that returns late has its instance
// destroyed right there, on that thread, so it never reaches the host; the
// instance keeps its PluginLibrary, so the file is never unloaded under a
// hook still running.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "plugin/instance.h"

namespace bentos::plugin {

class LifecycleJob : public std::enable_shared_from_this<LifecycleJob> {
 public:
  enum class Hook { create, destroy };
  static const char* hook_name(Hook hook) { return hook == Hook::create ? "create" : "destroy"; }

  struct Outcome {
    bool timed_out = false;
    // create(): the instance, created; nullptr when it failed or timed out.
    std::unique_ptr<PluginInstance> instance;
    // A create() that failed, or either hook that timed out: one sentence
    // naming the device.
    std::string error;
  };
  // Runs on the loop thread, once, unless the job is abandoned first.
  using Done = std::function<void(Outcome)>;

  // Loop thread. Runs `hook` of `instance` (prepared for create, or after
  // begin_destroy for destroy) on a new thread. `done` never runs inside
  // start().
  static std::shared_ptr<LifecycleJob> start(uv_loop_t* loop, std::shared_ptr<loop::LoopInbox> inbox, Hook hook,
                                             std::unique_ptr<PluginInstance> instance,
                                             std::chrono::milliseconds bound, Done done);
  // Loop thread. The host is stopping: `done` will not run; a thread still
  // in its hook finishes (and cleans up) on its own.
  void abandon();
  ~LifecycleJob();
  LifecycleJob(const LifecycleJob&) = delete;
  LifecycleJob& operator=(const LifecycleJob&) = delete;

  // Any thread. Lifecycle threads still running (in this process), and the
  // device of one, for a shutdown that has to give up on them.
  static size_t running(std::string* device = nullptr);
  // Any thread. Waits until no lifecycle thread runs (main, before exit:
  // a destroy() still running is let finish, within the shutdown bound).
  static void wait_until_none_running();
  // Any thread. Whether a hook of `device` that the host gave up on is
  // still running (which one in `hook`): its next instance must wait, or a
  // plugin holding an exclusive resource would run twice at once.
  static bool given_up_still_running(const std::string& device, Hook* hook = nullptr);

 private:
  struct Shared;
  LifecycleJob() = default;
  void on_finished(Outcome outcome);  // the thread's hand-back, on the loop
  static void on_timeout(uv_timer_t* timer);
  void close_timer();

  Hook hook_ = Hook::create;
  std::string device_;
  std::chrono::milliseconds bound_{0};
  Done done_;
  bool settled_ = false;             // done_ ran, or abandoned
  uv_timer_t* timer_ = nullptr;      // heap: freed in its close callback
  std::shared_ptr<Shared> shared_;   // with the thread
  std::shared_ptr<TaskGate> gate_;   // the instance's: closed when given up on
};

}  // namespace bentos::plugin
