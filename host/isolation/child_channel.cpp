#include "isolation/child_channel.h"

#include <unistd.h>

#include <cstring>
#include <memory>

namespace bentos::isolation {

namespace {

// A child answers with one device's figures; anything this long is not an
// answer but a child gone wrong, and the channel is closed on it.
constexpr size_t kMaxLineBytes = 16u << 20;

void free_pipe(uv_handle_t* handle) { delete reinterpret_cast<uv_pipe_t*>(handle); }

struct WriteRequest {
  uv_write_t req;
  std::string bytes;
};

}  // namespace

ChildChannel::ChildChannel(uv_loop_t* loop, int fd, HelloFn on_hello, ClosedFn on_closed)
    : on_hello_(std::move(on_hello)), on_closed_(std::move(on_closed)) {
  pipe_ = new uv_pipe_t;
  uv_pipe_init(loop, pipe_, 0);
  pipe_->data = this;
  if (uv_pipe_open(pipe_, fd) != 0 || uv_read_start(reinterpret_cast<uv_stream_t*>(pipe_), on_alloc, on_read) != 0) {
    ::close(fd);
    pipe_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(pipe_), free_pipe);
    pipe_ = nullptr;
  }
}

ChildChannel::~ChildChannel() { close(); }

void ChildChannel::request(const std::string& line, AnswerFn answer) {
  if (!pipe_) {
    answer(nullptr);
    return;
  }
  auto* w = new WriteRequest;
  w->bytes = line + "\n";
  uv_buf_t buf = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
  const int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(pipe_), &buf, 1,
                          [](uv_write_t* req, int) { delete reinterpret_cast<WriteRequest*>(req); });
  if (rc != 0) {
    delete w;
    answer(nullptr);
    return;
  }
  waiting_.push_back({std::move(answer), std::chrono::steady_clock::now()});
}

void ChildChannel::close() {
  if (pipe_) {
    pipe_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(pipe_), free_pipe);
    pipe_ = nullptr;
  }
  // Answered after the pipe is gone, so an answer that asks again sees it
  // closed.
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& w : waiting) w.answer(nullptr);
}

std::chrono::steady_clock::duration ChildChannel::oldest_wait() const {
  if (waiting_.empty()) return std::chrono::steady_clock::duration::zero();
  return std::chrono::steady_clock::now() - waiting_.front().since;
}

void ChildChannel::on_alloc(uv_handle_t*, size_t suggested, uv_buf_t* buf) {
  buf->base = new char[suggested];
  buf->len = suggested;
}

void ChildChannel::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  std::unique_ptr<char[]> owned(buf->base);
  auto* self = static_cast<ChildChannel*>(stream->data);
  if (!self) return;
  if (nread < 0) {
    self->closed_by_peer();
    return;
  }
  self->buffer_.append(buf->base, static_cast<size_t>(nread));
  size_t start = 0;
  for (size_t nl; (nl = self->buffer_.find('\n', start)) != std::string::npos; start = nl + 1) {
    const std::string line = self->buffer_.substr(start, nl - start);
    self->on_line(line);
    if (!self->pipe_) return;  // closed by whoever took the line
  }
  self->buffer_.erase(0, start);
  if (self->buffer_.size() > kMaxLineBytes) self->closed_by_peer();
}

void ChildChannel::on_line(const std::string& line) {
  if (!hello_seen_) {
    hello_seen_ = true;
    if (on_hello_) on_hello_(line);
    return;
  }
  if (waiting_.empty()) return;  // nothing asked: a child out of step; ignored
  Waiting w = std::move(waiting_.front());
  waiting_.pop_front();
  w.answer(&line);
}

void ChildChannel::closed_by_peer() {
  ClosedFn closed = std::move(on_closed_);
  close();
  if (closed) closed();
}

}  // namespace bentos::isolation
