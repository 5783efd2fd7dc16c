// The parent's end of an isolated device's private channel: one line of
// JSON each way, the control socket's protocol (daemon/control_commands.h)
// plus the child's first line, its hello ({"ready": true, ...} once its
// device serves, or {"ready": false, "error": ...}). Requests are answered
// in order, so each answer goes to the oldest waiting request.
//
// Owned by its IsolatedDevice; loop thread only. The pipe handle lives on
// the heap until its close callback, so closing from a callback is safe.
#pragma once

#include <uv.h>

#include <chrono>
#include <deque>
#include <functional>
#include <string>

namespace bentos::isolation {

class ChildChannel {
 public:
  // The hello line, then nothing more; called once, or not at all when the
  // channel closes first.
  using HelloFn = std::function<void(const std::string& line)>;
  // Called once when the child's end closes (EOF or an error), not after
  // close().
  using ClosedFn = std::function<void()>;
  // An answer; nullptr when the channel closed before it came.
  using AnswerFn = std::function<void(const std::string* line)>;

  // Takes `fd` (a connected stream socket). On failure the fd is closed
  // and the channel is closed from the start.
  ChildChannel(uv_loop_t* loop, int fd, HelloFn on_hello, ClosedFn on_closed);
  ~ChildChannel();
  ChildChannel(const ChildChannel&) = delete;
  ChildChannel& operator=(const ChildChannel&) = delete;

  // Sends one request line (without its newline). When closed, `answer`
  // runs at once with nullptr.
  void request(const std::string& line, AnswerFn answer);
  // Fails every waiting request (nullptr answers) and closes the pipe.
  void close();
  bool open() const { return pipe_ != nullptr; }
  // How long the oldest request has waited (zero when none waits).
  std::chrono::steady_clock::duration oldest_wait() const;

 private:
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  void on_line(const std::string& line);
  void closed_by_peer();

  struct Waiting {
    AnswerFn answer;
    std::chrono::steady_clock::time_point since;
  };
  uv_pipe_t* pipe_ = nullptr;  // nullptr once closed
  std::string buffer_;          // bytes after the last newline
  bool hello_seen_ = false;
  HelloFn on_hello_;
  ClosedFn on_closed_;
  std::deque<Waiting> waiting_;
};

}  // namespace bentos::isolation
