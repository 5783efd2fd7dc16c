// The host side of a bentos_host handle: what a plugin instance may reach
// through the services (its device name, the loop, the inbox, its timers).
//
// Owned by PluginInstance. `device`, `inbox`, `loop_thread` and `gate` are
// set before create and never change, so any thread may read them; `timers`
// is loop-thread only.
#pragma once

#include <uv.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "bentos/driver.h"
#include "loop/loop_inbox.h"
#include "loop/plugin_guard.h"
#include "plugin/targets.h"
#include "plugin/task_gate.h"
#include "plugin/timer_set.h"

struct bentos_host {
  std::string device;
  uv_loop_t* loop = nullptr;
  std::shared_ptr<bentos::loop::LoopInbox> inbox;
  std::unique_ptr<bentos::plugin::TimerSet> timers;
  // Every call into this instance's plugin code runs behind it (loop/plugin_guard.h).
  std::shared_ptr<bentos::loop::PluginGuard> guard;
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
