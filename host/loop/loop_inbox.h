// Work handed to the loop thread from any thread: a locked queue and one
// uv_async_t, drained fully per wake-up (architecture.md, "threading").
// Plugin completions, post() and worker results all arrive here.
//
// A post from the loop thread itself (a plugin completing inside its
// callback, the common case) needs no wake-up: the queue is drained in this
// loop turn's check phase, saving the eventfd write, the read and a loop
// turn per request.
//
// Owned by the Host through a shared_ptr (handle-table entries keep it alive
// while a plugin may still complete). post() is callable from any thread;
// everything else only from the loop thread.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "util/inline_function.h"

namespace bentos::loop {

class LoopInbox {
 public:
  // Big enough for a call's completion (PendingCall + Completion) to be
  // queued without a heap allocation; the queue's vectors keep their
  // capacity, so a steady stream of completions allocates nothing.
  using Task = util::InlineFunction<void(), 192>;

  // Constructed on the loop thread.
  explicit LoopInbox(uv_loop_t* loop);
  ~LoopInbox();
  LoopInbox(const LoopInbox&) = delete;
  LoopInbox& operator=(const LoopInbox&) = delete;

  // Any thread. Queues `task` for the loop thread; false once closed (the
  // task is dropped: the host is shutting down).
  bool post(Task task);

  // Loop thread. Runs every queued task, including ones queued meanwhile.
  void run_pending();

  // Loop thread. Stops accepting tasks, drops queued ones, closes the handle.
  void close();

  // Runs after each drain (the host flushes batched writes there).
  void set_after_drain(std::function<void()> fn) { after_drain_ = std::move(fn); }

 private:
  static void on_async(uv_async_t* handle);
  static void on_check(uv_check_t* handle);
  static void on_idle(uv_idle_t*) {}
  void run_draining();

  uv_async_t* async_;  // heap, like the two below: freed in its close callback
  // Started by a post from the loop thread: the check handle drains the
  // queue after this turn's poll; the idle one keeps that poll from
  // blocking when the post came before it (from a timer, say).
  uv_check_t* check_;
  uv_idle_t* idle_;
  const std::thread::id loop_thread_;
  std::mutex mutex_;
  std::vector<Task> queue_;  // guarded by mutex_
  bool closed_ = false;      // written under mutex_ by the loop thread only
  std::vector<Task> local_;        // loop thread: posts from the loop itself
  std::vector<Task> draining_;     // loop thread: the batch being run
  bool draining_active_ = false;   // loop thread
  std::function<void()> after_drain_;
};

}  // namespace bentos::loop
