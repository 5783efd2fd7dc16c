#include "net/write_flusher.h"

#include <vector>

#include "net/connection.h"

namespace bentos::net {

WriteFlusher::WriteFlusher(uv_loop_t* loop) : check_(new uv_check_t) {
  uv_check_init(loop, check_);
  check_->data = this;
  uv_check_start(check_, &WriteFlusher::on_check);
  // The check handle alone must not keep the loop alive at shutdown.
  uv_unref(reinterpret_cast<uv_handle_t*>(check_));
}

WriteFlusher::~WriteFlusher() { close(); }

void WriteFlusher::flush_all() {
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
}

void WriteFlusher::on_check(uv_check_t* handle) { static_cast<WriteFlusher*>(handle->data)->flush_all(); }

}  // namespace bentos::net
