#include "plugin/lifecycle.h"

#include <condition_variable>
#include <list>
#include <mutex>
#include <system_error>
#include <thread>

#include "loop/signal_stack.h"
#include "util/log.h"

namespace bentos::plugin {

namespace {

// The lifecycle threads of the process, described for a shutdown that
// has to give up on one.
struct Entry {
  std::string device;
  LifecycleJob::Hook hook;
  bool given_up = false;  // the loop stopped waiting for it
};

struct Registry {
  std::mutex mutex;
  std::condition_variable none_left;
  std::list<Entry> running;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: a thread may outlive main()
  return *r;
}

using Slot = std::list<Entry>::iterator;

Slot register_thread(const std::string& device, LifecycleJob::Hook hook) {
  std::lock_guard<std::mutex> lock(registry().mutex);
  return registry().running.insert(registry().running.end(), Entry{device, hook});
}

// The thread's hook returned after the host gave up on it: its device
// is free for a new instance again.
void release_given_up(Slot it) {
  std::lock_guard<std::mutex> lock(registry().mutex);
  it->given_up = false;
}

// Only while the thread has not unregistered: the caller holds the job's
// lock and saw it unfinished (a thread unregisters after it finished).
void mark_given_up(Slot it) {
  std::lock_guard<std::mutex> lock(registry().mutex);
  it->given_up = true;
}

void unregister_thread(Slot it) {
  std::lock_guard<std::mutex> lock(registry().mutex);
  registry().running.erase(it);
  if (registry().running.empty()) registry().none_left.notify_all();
}

std::string millis(std::chrono::steady_clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

// Between the loop and the thread: who gave up on whom.
struct LifecycleJob::Shared {
  Slot slot;  // the thread's entry in the registry
  std::mutex mutex;
  bool finished = false;  // the thread is done and has posted its outcome
  bool given_up = false;  // the loop stopped waiting: the thread cleans up
};

size_t LifecycleJob::running(std::string* device) {
  std::lock_guard<std::mutex> lock(registry().mutex);
  if (device && !registry().running.empty()) *device = registry().running.front().device;
  return registry().running.size();
}

bool LifecycleJob::given_up_still_running(const std::string& device, Hook* hook) {
  std::lock_guard<std::mutex> lock(registry().mutex);
  for (const Entry& e : registry().running) {
    if (e.given_up && e.device == device) {
      if (hook) *hook = e.hook;
      return true;
    }
  }
  return false;
}

void LifecycleJob::wait_until_none_running() {
  std::unique_lock<std::mutex> lock(registry().mutex);
  registry().none_left.wait(lock, [] { return registry().running.empty(); });
}

std::shared_ptr<LifecycleJob> LifecycleJob::start(uv_loop_t* loop, std::shared_ptr<loop::LoopInbox> inbox, Hook hook,
                                                  std::unique_ptr<PluginInstance> instance,
                                                  std::chrono::milliseconds bound, Done done) {
  std::shared_ptr<LifecycleJob> self(new LifecycleJob());
  self->hook_ = hook;
  self->device_ = instance->device();
  self->bound_ = bound;
  self->done_ = std::move(done);
  self->shared_ = std::make_shared<Shared>();
  self->gate_ = instance->gate();
  self->timer_ = new uv_timer_t;
  uv_timer_init(loop, self->timer_);
  self->timer_->data = self.get();
  uv_timer_start(self->timer_, &LifecycleJob::on_timeout, static_cast<uint64_t>(bound.count()), 0);

  const std::string what = "device '" + self->device_ + "': plugin " + hook_name(hook);
  const Slot slot = register_thread(self->device_, hook);
  self->shared_->slot = slot;
  auto work = [hook, slot, what, instance = std::move(instance), inbox, shared = self->shared_,
               job = std::weak_ptr<LifecycleJob>(self)]() mutable {
    const loop::SignalStack crash_stack;  // a plugin's stack overflow is still reported
    const auto began = std::chrono::steady_clock::now();
    Outcome outcome;
    bool created = false;
    if (hook == Hook::create) {
      created = instance->run_create(outcome.error);
    } else {
      instance->run_destroy();
      instance.reset();  // its host side ended on the loop already (begin_destroy)
    }
    bool given_up;
    {
      std::lock_guard<std::mutex> lock(shared->mutex);
      given_up = shared->given_up;
      shared->finished = !given_up;
    }
    if (given_up) {
      // The host reported this device failed already. A late instance
      // must not leak into it: destroyed here (its gate was closed by the
      // loop, so none of its tasks or timers ever ran).
      std::string late = what + " finished " + millis(std::chrono::steady_clock::now() - began) +
                         " after it began, after the host had given up on it";
      if (created) {
        instance->run_destroy();
        late += "; the instance it made was destroyed";
      }
      instance.reset();
      release_given_up(slot);  // before the log line: whoever reads it may reload at once
      log::warn("", late);
    } else {
      // Even an instance whose create() failed goes back: its gate may be
      // holding tasks, which only the loop may touch.
      outcome.instance = std::move(instance);
      // Dropped (and the instance destroyed, here) if the host has shut down.
      inbox->post([job, outcome = std::make_shared<Outcome>(std::move(outcome))]() mutable {
        if (auto alive = job.lock()) alive->on_finished(std::move(*outcome));
      });
    }
    inbox.reset();
    unregister_thread(slot);  // last: main() may exit once none is left
  };
  try {
    std::thread(std::move(work)).detach();
  } catch (const std::system_error& e) {
    // No thread. The failed std::thread destroyed `work`, and with it the
    // instance, here on the loop: for a destroy job that ran destroy(), for
    // a create job nothing (create() never ran).
    unregister_thread(slot);
    self->shared_->finished = true;  // nothing left to give up on
    Outcome outcome;
    const std::string why = std::string("cannot start a thread for the plugin's ") + hook_name(hook) + "(): " + e.what();
    if (hook == Hook::create) outcome.error = "device '" + self->device_ + "': " + why;
    else log::warn(self->device_, why + "; it ran on the loop thread");
    std::weak_ptr<LifecycleJob> job = self;
    inbox->post([job, outcome = std::make_shared<Outcome>(std::move(outcome))]() mutable {
      if (auto s = job.lock()) s->on_finished(std::move(*outcome));
    });
  }
  return self;
}

void LifecycleJob::on_finished(Outcome outcome) {
  if (settled_) return;  // abandoned: the instance (if any) is destroyed with `outcome`, here on the loop
  settled_ = true;
  close_timer();
  if (!outcome.error.empty()) outcome.instance.reset();  // a failed create(): nothing to destroy
  done_(std::move(outcome));
}

void LifecycleJob::on_timeout(uv_timer_t* timer) {
  auto* self = static_cast<LifecycleJob*>(timer->data);
  if (self->settled_) return;
  {
    std::lock_guard<std::mutex> lock(self->shared_->mutex);
    if (self->shared_->finished) return;  // its outcome is in the inbox, on its way
    self->shared_->given_up = true;
    mark_given_up(self->shared_->slot);
  }
  // Whatever the plugin asked for from its hook never runs.
  self->gate_->close();
  self->settled_ = true;
  self->close_timer();
  const std::string error = "device '" + self->device_ + "': plugin " + hook_name(self->hook_) +
                            " did not finish within " + std::to_string(self->bound_.count()) + " ms";
  log::error(self->device_, std::string("plugin ") + hook_name(self->hook_) + " did not finish within " +
                                std::to_string(self->bound_.count()) +
                                " ms (lifecycle_timeout_ms); given up on, the rest of the host goes on");
  Outcome outcome;
  outcome.timed_out = true;
  outcome.error = error;
  auto keep = self->shared_from_this();  // done_ may drop the last reference
  self->done_(std::move(outcome));
}

void LifecycleJob::abandon() {
  if (settled_) return;
  settled_ = true;
  close_timer();
  bool finished;
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    finished = shared_->finished;
    if (!finished) {
      shared_->given_up = true;
      mark_given_up(shared_->slot);
    }
  }
  if (!finished) gate_->close();
}

void LifecycleJob::close_timer() {
  if (!timer_) return;
  uv_timer_stop(timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  timer_ = nullptr;
}

LifecycleJob::~LifecycleJob() {
  abandon();
}

}  // namespace bentos::plugin
