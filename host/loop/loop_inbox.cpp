#include "loop/loop_inbox.h"

namespace bentos::loop {

LoopInbox::LoopInbox(uv_loop_t* loop)
    : async_(new uv_async_t), check_(new uv_check_t), idle_(new uv_idle_t), loop_thread_(std::this_thread::get_id()) {
  uv_async_init(loop, async_, &LoopInbox::on_async);
  async_->data = this;
  uv_check_init(loop, check_);
  check_->data = this;
  uv_idle_init(loop, idle_);
}

LoopInbox::~LoopInbox() { close(); }

bool LoopInbox::post(Task task) {
  if (std::this_thread::get_id() == loop_thread_) {
    // The loop's own posts (a plugin answering inside its callback, the
    // common case) take no lock: only the loop touches local_, and only
    // the loop writes closed_.
    if (closed_) return false;
    local_.push_back(std::move(task));
    // Starting an active handle again is a no-op.
    uv_check_start(check_, &LoopInbox::on_check);
    uv_idle_start(idle_, &LoopInbox::on_idle);
    return true;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return false;
  queue_.push_back(std::move(task));
  // Under the lock: close() cannot free the handle between the check and
  // the send. uv_async_send coalesces: many posts, one wake-up.
  uv_async_send(async_);
  return true;
}

void LoopInbox::run_pending() {
  // Tasks may post more tasks (they queue behind) but never drain.
  if (draining_active_) return;
  draining_active_ = true;
  // Each queue keeps its own order (one per thread that posts, in
  // effect); tasks of different threads have no order to keep.
  for (;;) {
    bool ran = false;
    if (!local_.empty()) {
      draining_.swap(local_);  // swapping keeps both vectors' capacity
      run_draining();
      ran = true;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!queue_.empty()) draining_.swap(queue_);
    }
    if (!draining_.empty()) {
      run_draining();
      ran = true;
    }
    if (!ran) break;
  }
  draining_active_ = false;
  if (after_drain_) after_drain_();
}

void LoopInbox::run_draining() {
  for (auto& task : draining_) task();
  draining_.clear();
}

void LoopInbox::close() {
  // Dropped tasks are destroyed outside the lock: one may own a plugin
  // instance (a create that finished during a reload) whose destroy()
  // joins a plugin thread that is itself blocked in post().
  std::vector<Task> dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    closed_ = true;
    dropped.swap(queue_);
  }
  dropped.clear();
  local_.clear();
  async_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(async_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
  uv_close(reinterpret_cast<uv_handle_t*>(check_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
  uv_close(reinterpret_cast<uv_handle_t*>(idle_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_idle_t*>(h); });
}

void LoopInbox::on_check(uv_check_t* handle) {
  auto* self = static_cast<LoopInbox*>(handle->data);
  uv_check_stop(self->check_);
  uv_idle_stop(self->idle_);
  self->run_pending();
}

void LoopInbox::on_async(uv_async_t* handle) {
  if (auto* self = static_cast<LoopInbox*>(handle->data)) self->run_pending();
}

}  // namespace bentos::loop
