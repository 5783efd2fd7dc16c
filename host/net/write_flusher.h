// Batches writes: connections append replies to their output buffer during
// a loop iteration and ask to be flushed; one uv_check_t (which runs right
// after the loop's I/O phase) starts one write per dirty connection. Many
// replies produced by one read therefore leave in one write(2). Replies
// produced outside the I/O phase (a timer: a request timeout, a plugin
// timer) would otherwise wait for the next I/O event, so marking a
// connection also starts a uv_idle_t, which keeps the loop from blocking in
// poll until the flush has run.
//
// Owned by the Host; loop thread only.
#pragma once

#include <uv.h>

#include <unordered_set>

namespace bentos::net {

class Connection;

class WriteFlusher {
 public:
  explicit WriteFlusher(uv_loop_t* loop);
  ~WriteFlusher();
  WriteFlusher(const WriteFlusher&) = delete;
  WriteFlusher& operator=(const WriteFlusher&) = delete;

  void mark(Connection* c);
  void forget(Connection* c) { dirty_.erase(c); }
  // Flushes every marked connection now.
  void flush_all();
  void close();

 private:
  static void on_check(uv_check_t* handle);
  static void on_idle(uv_idle_t* handle);

  uv_check_t* check_;  // heap: freed in its close callback
  uv_idle_t* idle_;    // heap: freed in its close callback; active while dirty
  std::unordered_set<Connection*> dirty_;
};

}  // namespace bentos::net
