// Work handed to the loop thread from any thread: a locked queue and one
// uv_async_t, drained fully per wake-up (architecture.md, "threading").
// Plugin completions, post() and worker results all arrive here.
//
// Owned by the Host through a shared_ptr (handle-table entries keep it alive
// while a plugin may still complete). post() is callable from any thread;
// everything else only from the loop thread.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace bentos::plugin {

class LoopInbox {
 public:
  using Task = std::function<void()>;

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

  uv_async_t* async_;  // heap: freed in its close callback
  std::mutex mutex_;
  std::vector<Task> queue_;  // guarded by mutex_
  bool closed_ = false;      // guarded by mutex_
  std::function<void()> after_drain_;
};

}  // namespace bentos::plugin
