// The host side of a bentos_host handle: what a plugin instance may reach
// through the services (its device name, the loop, the inbox, its timers).
//
// Owned by PluginInstance. `device` and `inbox` are set before create and
// never change, so any thread may read them; `timers` is loop-thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <atomic>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "bentos/driver.h"
#include "plugin/guard.h"
#include "plugin/loop_inbox.h"
#include "plugin/targets.h"

namespace bentos::plugin {

// Timers a plugin started through timer_start. reserve_id() is any-thread;
// everything else is loop-thread only (the services post to the loop when
// called from elsewhere, e.g. from a device running on workers).
class TimerSet {
 public:
  // Callbacks run behind `guard` (the instance's).
  TimerSet(uv_loop_t* loop, std::shared_ptr<PluginGuard> guard) : loop_(loop), guard_(std::move(guard)) {}
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

 private:
  struct Timer;
  static void on_fire(uv_timer_t* handle);

  uv_loop_t* loop_;
  std::shared_ptr<PluginGuard> guard_;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<uint64_t> remote_pending_{0};  // posted starts not yet run
  std::unordered_map<uint64_t, Timer*> timers_;
  // Stopped before their posted start ran; only recorded while such starts
  // are pending, so the set stays small.
  std::unordered_set<uint64_t> stopped_early_;
};

}  // namespace bentos::plugin

struct bentos_host {
  std::string device;
  uv_loop_t* loop = nullptr;
  std::shared_ptr<bentos::plugin::LoopInbox> inbox;
  std::unique_ptr<bentos::plugin::TimerSet> timers;
  // Every call into this instance's plugin code runs behind it (guard.h).
  std::shared_ptr<bentos::plugin::PluginGuard> guard;
  std::thread::id loop_thread;  // services called elsewhere post to the loop
  // False once destroy() begins: posted tasks and timers queued for this
  // instance must not run into a destroyed plugin.
  std::shared_ptr<std::atomic<bool>> alive = std::make_shared<std::atomic<bool>>(true);
  // P3: where emit() goes. Set by the event-stream driver on the loop
  // thread, read by emit() from any thread, hence the mutex.
  std::mutex emit_mutex;
  std::shared_ptr<bentos::plugin::EmitTarget> emit_target;
};
