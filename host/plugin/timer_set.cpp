#include "plugin/timer_set.h"

namespace bentos::plugin {

struct TimerSet::Timer {
  uv_timer_t handle;
  TimerSet* owner;
  uint64_t id;
  bentos_task_fn fn;
  void* arg;
  bool repeating;
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
  uv_timer_init(loop_, &t->handle);
  t->handle.data = t;
  uv_timer_start(&t->handle, &TimerSet::on_fire, delay_ms, repeat_ms);
  timers_.emplace(t->id, t);
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
  uv_timer_stop(&t->handle);
  uv_close(reinterpret_cast<uv_handle_t*>(&t->handle),
           [](uv_handle_t* closed) { delete static_cast<Timer*>(closed->data); });
  return true;
}

void TimerSet::stop_all() {
  while (!timers_.empty()) stop(timers_.begin()->first);
}

void TimerSet::on_fire(uv_timer_t* handle) {
  auto* t = static_cast<Timer*>(handle->data);
  if (!t->owner) return;
  TimerSet* owner = t->owner;
  const uint64_t id = t->id;
  bentos_task_fn fn = t->fn;
  void* arg = t->arg;
  // A one-shot timer is forgotten before it runs, so fn may start new ones.
  if (!t->repeating) owner->stop(id);
  std::shared_ptr<loop::PluginGuard> guard = owner->guard_;  // the set may be gone when fn returns
  guard->run("a timer callback", [&] { fn(arg); });
}

}  // namespace bentos::plugin
