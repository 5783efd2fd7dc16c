#include "net/connection.h"

#include "net/write_flusher.h"

namespace bentos::net {

Connection::Connection(StreamStorage* storage, uint64_t id, std::string peer, uint64_t max_frame_bytes,
                       WriteFlusher* flusher)
    : storage_(storage), stream_(&storage->stream), id_(id), peer_(std::move(peer)), decoder_(max_frame_bytes), flusher_(flusher) {
  stream_->data = this;
  write_req_.data = this;
}

void Connection::start(Handler* handler) {
  handler_ = handler;
  update_reading();
}

void Connection::mark_dirty() {
  if (!closing_ && !out_.empty()) flusher_->mark(this);
}

void Connection::flush() {
  if (closing_ || writing_ || out_.empty()) return;
  inflight_.swap(out_);
  out_.clear();
  uv_buf_t buf = uv_buf_init(inflight_.data(), static_cast<unsigned>(inflight_.size()));
  const int rc = uv_write(&write_req_, stream_, &buf, 1, &Connection::on_written);
  if (rc != 0) {
    inflight_.clear();
    close();
    return;
  }
  writing_ = true;
  update_reading();
}

void Connection::on_written(uv_write_t* req, int status) {
  auto* self = static_cast<Connection*>(req->data);
  self->writing_ = false;
  self->bytes_out_ += self->inflight_.size();
  self->inflight_.clear();
  if (self->closing_) return;
  if (status != 0) {
    self->close();
    return;
  }
  self->flush();
  self->update_reading();
}

void Connection::update_reading() {
  if (closing_ || !handler_) return;
  const bool want = out_.size() + inflight_.size() <= kPauseReadingAbove;
  if (want && !reading_) {
    if (uv_read_start(stream_, &Connection::on_alloc, &Connection::on_read) == 0) reading_ = true;
  } else if (!want && reading_) {
    uv_read_stop(stream_);
    reading_ = false;
  }
}

void Connection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(h->data);
  *buf = uv_buf_init(self->read_buf_, sizeof self->read_buf_);
}

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(s->data);
  if (nread < 0) {  // UV_EOF or an error: either way the connection is over
    self->close();
    return;
  }
  if (nread == 0 || self->closing_) return;
  self->bytes_in_ += static_cast<uint64_t>(nread);
  const bool ok = self->decoder_.feed(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread),
                                      [self](const uint8_t* p, size_t n) {
                                        if (!self->closing_) self->handler_->on_frame(p, n);
                                      });
  if (!ok && !self->closing_) {
    self->handler_->on_oversized_frame(self->decoder_.oversized_length());
    self->close();
    return;
  }
  self->update_reading();
}

void Connection::close() {
  if (closing_) return;
  closing_ = true;
  flusher_->forget(this);
  out_.clear();
  if (reading_) uv_read_stop(stream_);
  reading_ = false;
  Handler* handler = handler_;
  handler_ = nullptr;
  // Deleting waits for libuv: a write in flight is cancelled and its
  // callback runs before the close callback.
  uv_close(reinterpret_cast<uv_handle_t*>(stream_), [](uv_handle_t* h) {
    auto* conn = static_cast<Connection*>(h->data);
    delete conn->storage_;
    delete conn;
  });
  if (handler) handler->on_closed();
}

}  // namespace bentos::net
