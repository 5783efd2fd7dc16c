#include "plugin/loop_inbox.h"

namespace bentos::plugin {

LoopInbox::LoopInbox(uv_loop_t* loop) : async_(new uv_async_t) {
  uv_async_init(loop, async_, &LoopInbox::on_async);
  async_->data = this;
}

LoopInbox::~LoopInbox() { close(); }

bool LoopInbox::post(Task task) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return false;
  queue_.push_back(std::move(task));
  // Under the lock: close() cannot free the handle between the check and
  // the send. uv_async_send coalesces: many posts, one wake-up.
  uv_async_send(async_);
  return true;
}

void LoopInbox::run_pending() {
  std::vector<Task> batch;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (queue_.empty()) break;
      batch.swap(queue_);
    }
    for (auto& task : batch) task();
    batch.clear();
  }
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
}

void LoopInbox::on_async(uv_async_t* handle) {
  if (auto* self = static_cast<LoopInbox*>(handle->data)) self->run_pending();
}

}  // namespace bentos::plugin
