// The host side of a bentos_host handle: what a plugin instance may reach
// through the services (its device name, the loop, the inbox, its timers).
//
// Owned by PluginInstance. `device`, `inbox`, `loop_thread` and `gate` are
// set before create and never change, so any thread may read them; `timers`
// is loop-thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <atomic>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

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

// Whether the tasks an instance posted (post(), and timer starts or stops
// asked for off the loop) may run. Before the instance is open they are
// held, so a create() running off the loop (a reload) never has its timer
// fire or its task run before it returned; once it is open they run; once
// it is closed (destroy() begins, or the host gave up on a create()) they
// are dropped.
//
// Shared by the instance and the tasks in the inbox. alive() is any-thread;
// run(), open() and close() are loop-thread only.
class TaskGate {
 public:
  bool alive() const { return state_.load() != State::closed; }
  // Runs `task` now, holds it until open(), or drops it once closed.
  void run(std::function<void()> task) {
    if (state_.load() == State::open) return task();
    if (state_.load() == State::held) held_.push_back(std::move(task));
  }
  void open() {
    if (state_.load() != State::held) return;
    state_.store(State::open);
    // A held task may post more; those queue in the inbox behind these.
    auto held = std::move(held_);
    held_.clear();
    for (auto& task : held) {
      if (state_.load() != State::open) break;  // a task may have ended the instance
      task();
    }
  }
  void close() {
    state_.store(State::closed);
    held_.clear();
  }

 private:
  enum class State { held, open, closed };
  std::atomic<State> state_{State::held};
  std::vector<std::function<void()>> held_;  // loop thread
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
  // Posted tasks and timer starts wait for create() to return and are
  // dropped once destroy() begins: nothing may run into a plugin that is
  // not there.
  std::shared_ptr<bentos::plugin::TaskGate> gate = std::make_shared<bentos::plugin::TaskGate>();
  // P3: where emit() goes. Set by the event-stream driver on the loop
  // thread, read by emit() from any thread, hence the mutex.
  std::mutex emit_mutex;
  std::shared_ptr<bentos::plugin::EmitTarget> emit_target;
};
