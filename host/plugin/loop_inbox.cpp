#include "plugin/loop_inbox.h"

namespace bentos::plugin {

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
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return false;
  queue_.push_back(std::move(task));
  if (std::this_thread::get_id() == loop_thread_) {
    // Starting an active handle again is a no-op.
    uv_check_start(check_, &LoopInbox::on_check);
    uv_idle_start(idle_, &LoopInbox::on_idle);
    return true;
  }
  // Under the lock: close() cannot free the handle between the check and
  // the send. uv_async_send coalesces: many posts, one wake-up.
  uv_async_send(async_);
  return true;
}

void LoopInbox::run_pending() {
  // Tasks may post more tasks (they queue behind) but never drain.
  if (draining_active_) return;
  draining_active_ = true;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (queue_.empty()) break;
      // Swapping keeps both vectors' capacity: no allocation per drain.
      draining_.swap(queue_);
    }
    for (auto& task : draining_) task();
    draining_.clear();
  }
  draining_active_ = false;
  if (after_drain_) after_drain_();
}

void LoopInbox::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    closed_ = true;
    queue_.clear();
  }
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

}  // namespace bentos::plugin
