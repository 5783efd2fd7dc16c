#include "net/connection.h"

#include "net/write_flusher.h"

#include <algorithm>
#include <memory>

#include "util/monotonic_clock.h"

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
  // One flusher entry per batch: replies after the first only append.
  if (closing_ || out_.empty() || marked_) return;
  marked_ = true;
  flusher_->mark(this);
}

void Connection::gather(const wire::SegmentedOutput& out, size_t skip) {
  uv_bufs_.clear();
  out.for_each_piece(skip, [this](const char* data, size_t len) {
    uv_bufs_.push_back(uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(len)));
  });
}

void Connection::flush(uint64_t now_ns) {
  marked_ = false;
  if (closing_ || writing_ || out_.empty()) return;
  if (handler_) handler_->on_flush(now_ns);
  // Try the write now: in the common case the socket takes everything and
  // no write request, callback or second buffer is involved. One writev
  // takes the inline bytes and every spliced payload in order (libuv caps
  // it at IOV_MAX pieces; the rest is then simply not written yet).
  gather(out_, 0);
  const int taken = uv_try_write(stream_, uv_bufs_.data(), static_cast<unsigned>(uv_bufs_.size()));
  if (taken < 0 && taken != UV_EAGAIN) {
    close();
    return;
  }
  const size_t done = taken > 0 ? static_cast<size_t>(taken) : 0;
  bytes_out_ += done;
  if (done == out_.size()) {
    out_.clear();
    update_reading();  // resumes reading if a full buffer had paused it
    return;
  }
  // The rest waits for the socket: libuv writes it from inflight_ (whose
  // spliced buffers stay alive until on_written), while new replies
  // collect in out_. uv_write copies the buffer list, not the bytes.
  inflight_.swap(out_);
  out_.clear();
  inflight_offset_ = done;
  gather(inflight_, done);
  const int rc = uv_write(&write_req_, stream_, uv_bufs_.data(), static_cast<unsigned>(uv_bufs_.size()),
                          &Connection::on_written);
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
  self->bytes_out_ += self->inflight_.size() - self->inflight_offset_;
  self->inflight_.clear();
  if (self->closing_) return;
  if (status != 0) {
    self->close();
    return;
  }
  // Replies queued while the write was in flight leave now: their own
  // clock reading, since no flusher batch covers them.
  if (!self->out_.empty()) self->flush(util::monotonic_ns());
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

// libuv calls on_read right after on_alloc, and on_read hands every byte
// to the FrameDecoder (which keeps only an incomplete frame's start) before
// returning; so all connections of a loop can share one read buffer. A
// large one lets a read take many frames at once.
namespace {
constexpr size_t kReadBuffer = 256 * 1024;
// The rest of a held frame at least this large is read straight into the
// decoder's frame buffer instead of being copied there from ours.
constexpr size_t kDirectReadAbove = 16 * 1024;

char* shared_read_buffer() {
  thread_local std::unique_ptr<char[]> shared(new char[kReadBuffer]);
  return shared.get();
}
}  // namespace

void Connection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(h->data);
  size_t len = 0;
  if (uint8_t* direct = self->decoder_.direct_space(kDirectReadAbove, len)) {
    *buf = uv_buf_init(reinterpret_cast<char*>(direct), static_cast<unsigned>(std::min(len, size_t{1} << 30)));
    return;
  }
  *buf = uv_buf_init(shared_read_buffer(), kReadBuffer);
}

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(s->data);
  if (nread < 0) {  // UV_EOF or an error: either way the connection is over
    self->close();
    return;
  }
  if (nread == 0 || self->closing_) return;
  self->bytes_in_ += static_cast<uint64_t>(nread);
  self->batch_arrived_ns_ = util::monotonic_ns();
  auto on_frame = [self](const uint8_t* p, size_t n) {
    if (!self->closing_) self->handler_->on_frame(p, n);
  };
  if (buf->base != shared_read_buffer()) {  // read into the held frame (on_alloc)
    self->decoder_.commit_direct(static_cast<size_t>(nread), on_frame);
    self->update_reading();
    return;
  }
  const bool ok = self->decoder_.feed(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread), on_frame);
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
  // Always, not only when marked_: a flush from on_written clears the flag
  // while the flusher still lists us, and we are freed before it runs.
  flusher_->forget(this);
  marked_ = false;
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
