#include "net/write_flusher.h"

#include <algorithm>

#include "net/connection.h"
#include "util/monotonic_clock.h"

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
  dirty_.push_back(c);
}

void WriteFlusher::forget(Connection* c) {
  // Once per closing connection; the lists hold only the connections with
  // output this turn, so a scan is cheap.
  std::replace(dirty_.begin(), dirty_.end(), c, static_cast<Connection*>(nullptr));
  std::replace(batch_.begin(), batch_.end(), c, static_cast<Connection*>(nullptr));
}

WriteFlusher::~WriteFlusher() { close(); }

void WriteFlusher::flush_all() {
  if (idle_) uv_idle_stop(idle_);
  if (dirty_.empty()) return;
  batch_.swap(dirty_);
  const uint64_t now_ns = util::monotonic_ns();
  // By index: a flush that fails closes its connection, whose forget()
  // may null a later entry.
  for (size_t i = 0; i < batch_.size(); ++i) {
    if (Connection* c = batch_[i]) c->flush(now_ns);
  }
  batch_.clear();
}

void WriteFlusher::close() {
  if (!check_) return;
  dirty_.clear();
  batch_.clear();
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
