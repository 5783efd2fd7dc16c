// Timers a plugin started through the timer_start service: one uv_timer_t
// each, its callback run behind the instance's PluginGuard.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "bentos/driver.h"
#include "loop/plugin_guard.h"
#include "plugin/manual_clock.h"

namespace bentos::plugin {

// Timers a plugin started through timer_start. reserve_id() is any-thread;
// everything else is loop-thread only (the services post to the loop when
// called from elsewhere, e.g. from a device running on workers).
class TimerSet {
 public:
  // Callbacks run behind `guard` (the instance's).
  TimerSet(uv_loop_t* loop, std::shared_ptr<loop::PluginGuard> guard) : loop_(loop), guard_(std::move(guard)) {}
  ~TimerSet() { stop_all(); }
  TimerSet(const TimerSet&) = delete;
  TimerSet& operator=(const TimerSet&) = delete;

  uint64_t reserve_id() { return next_id_.fetch_add(1); }
  // A start for `id` was posted from another thread and has not run yet.
  void note_remote_start() { remote_pending_.fetch_add(1); }
  // Starts timer `id` (from reserve_id), unless it was stopped already.
  void start(uint64_t id, uint64_t delay_ms, uint64_t repeat_ms, bentos_task_fn fn, void* arg,
             bool remote = false);
  // Stops a running timer, or makes a reserved one never start.
  bool stop(uint64_t id);
  void stop_all();
  size_t size() const { return timers_.size(); }
  // Schedules timers on `clock` instead of libuv's (whose time is the real
  // monotonic clock). Set before any timer starts; the clock outlives the
  // set. Only the test harness does this: the daemon always runs on uv.
  void use_clock(ManualClock* clock) { clock_ = clock; }

 private:
  struct Timer;
  static void on_fire(uv_timer_t* handle);
  void fire(Timer* t);
  void schedule_on_clock(Timer* t, uint64_t delay_ms);

  uv_loop_t* loop_;
  ManualClock* clock_ = nullptr;
  std::shared_ptr<loop::PluginGuard> guard_;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<uint64_t> remote_pending_{0};  // posted starts not yet run
  std::unordered_map<uint64_t, Timer*> timers_;
  // Stopped before their posted start ran; only recorded while such starts
  // are pending, so the set stays small.
  std::unordered_set<uint64_t> stopped_early_;
};

}  // namespace bentos::plugin
