#include "net/write_flusher.h"

#include <vector>

#include "net/connection.h"

namespace bentos::net {

WriteFlusher::WriteFlusher(uv_loop_t* loop) : check_(new uv_check_t), idle_(new uv_idle_t) {
  uv_check_init(loop, check_);
  check_->data = this;
  uv_check_start(check_, &WriteFlusher::on_check);
  // The check handle alone must not keep the loop alive at shutdown.
  uv_unref(reinterpret_cast<uv_handle_t*>(check_));
  uv_idle_init(loop, idle_);
  idle_->data = this;
}

void WriteFlusher::mark(Connection* c) {
  if (!check_) return;
  if (dirty_.empty()) uv_idle_start(idle_, &WriteFlusher::on_idle);
  dirty_.insert(c);
}

WriteFlusher::~WriteFlusher() { close(); }

void WriteFlusher::flush_all() {
  if (idle_) uv_idle_stop(idle_);
  if (dirty_.empty()) return;
  std::vector<Connection*> batch(dirty_.begin(), dirty_.end());
  dirty_.clear();
  for (Connection* c : batch) c->flush();
}

void WriteFlusher::close() {
  if (!check_) return;
  dirty_.clear();
  uv_check_stop(check_);
  uv_close(reinterpret_cast<uv_handle_t*>(check_), [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
  check_ = nullptr;
  uv_idle_stop(idle_);
  uv_close(reinterpret_cast<uv_handle_t*>(idle_), [](uv_handle_t* h) { delete reinterpret_cast<uv_idle_t*>(h); });
  idle_ = nullptr;
}

void WriteFlusher::on_check(uv_check_t* handle) { static_cast<WriteFlusher*>(handle->data)->flush_all(); }

void WriteFlusher::on_idle(uv_idle_t* handle) { static_cast<WriteFlusher*>(handle->data)->flush_all(); }

}  // namespace bentos::net
