#include "plugin/timer_set.h"

namespace bentos::plugin {

struct TimerSet::Timer {
  uv_timer_t handle;
  TimerSet* owner;
  uint64_t id;
  bentos_task_fn fn;
  void* arg;
  bool repeating;
  uint64_t repeat_ms;
  uint64_t clock_entry;  // its ManualClock entry (manual clock only)
};

void TimerSet::start(uint64_t id, uint64_t delay_ms, uint64_t repeat_ms, bentos_task_fn fn, void* arg,
                     bool remote) {
  if (remote) remote_pending_.fetch_sub(1);
  if (stopped_early_.erase(id) > 0) return;
  auto* t = new Timer{};
  t->owner = this;
  t->id = id;
  t->fn = fn;
  t->arg = arg;
  t->repeating = repeat_ms > 0;
  t->repeat_ms = repeat_ms;
  uv_timer_init(loop_, &t->handle);
  t->handle.data = t;
  timers_.emplace(t->id, t);
  if (clock_) return schedule_on_clock(t, delay_ms);
  uv_timer_start(&t->handle, &TimerSet::on_fire, delay_ms, repeat_ms);
}

bool TimerSet::stop(uint64_t id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) {
    // Reserved but not started yet (its start is still queued): cancel it.
    if (id > 0 && id < next_id_.load() && remote_pending_.load() > 0) stopped_early_.insert(id);
    if (remote_pending_.load() == 0) stopped_early_.clear();
    return false;
  }
  Timer* t = it->second;
  timers_.erase(it);
  t->handle.data = t;
  t->owner = nullptr;
  if (clock_) clock_->cancel(t->clock_entry);
  uv_timer_stop(&t->handle);
  uv_close(reinterpret_cast<uv_handle_t*>(&t->handle),
           [](uv_handle_t* closed) { delete static_cast<Timer*>(closed->data); });
  return true;
}

void TimerSet::stop_all() {
  while (!timers_.empty()) stop(timers_.begin()->first);
}

// The handle is initialised but never started, so stop() closes it the
// same way for both clocks.
void TimerSet::schedule_on_clock(Timer* t, uint64_t delay_ms) {
  t->clock_entry = clock_->schedule(delay_ms, [this, id = t->id] {
    auto it = timers_.find(id);
    if (it == timers_.end()) return;
    Timer* timer = it->second;
    if (timer->repeating) schedule_on_clock(timer, timer->repeat_ms);  // before fn, which may stop it
    fire(timer);
  });
}

void TimerSet::on_fire(uv_timer_t* handle) {
  auto* t = static_cast<Timer*>(handle->data);
  if (!t->owner) return;
  t->owner->fire(t);
}

void TimerSet::fire(Timer* t) {
  const uint64_t id = t->id;
  bentos_task_fn fn = t->fn;
  void* arg = t->arg;
  // A one-shot timer is forgotten before it runs, so fn may start new ones.
  if (!t->repeating) stop(id);
  std::shared_ptr<loop::PluginGuard> guard = guard_;  // the set may be gone when fn returns
  guard->run("a timer callback", [&] { fn(arg); });
}

}  // namespace bentos::plugin
