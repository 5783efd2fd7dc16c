// Batches writes: connections append replies to their output buffer during
// a loop iteration and ask to be flushed; one uv_check_t (which runs right
// after the loop's I/O phase) starts one write per dirty connection. Many
// replies produced by one read therefore leave in one write(2). Replies
// produced outside the I/O phase (a timer: a request timeout, a plugin
// timer) would otherwise wait for the next I/O event, so marking a
// connection also starts a uv_idle_t, which keeps the loop from blocking in
// poll until the flush has run.
//
// The dirty connections are a plain list: a connection marks itself once
// per batch (its own flag says whether it is listed), so no set is needed,
// and the list's capacity is reused from batch to batch.
//
// Owned by the Host; loop thread only.
#pragma once

#include <uv.h>

#include <vector>

namespace bentos::net {

class Connection;

class WriteFlusher {
 public:
  explicit WriteFlusher(uv_loop_t* loop);
  ~WriteFlusher();
  WriteFlusher(const WriteFlusher&) = delete;
  WriteFlusher& operator=(const WriteFlusher&) = delete;

  // Lists `c` for the next flush; the caller lists each connection once.
  void mark(Connection* c);
  // `c` is closing: it leaves the list (and the batch being flushed).
  void forget(Connection* c);
  // Flushes every marked connection now, with one clock reading for all.
  void flush_all();
  void close();

 private:
  static void on_check(uv_check_t* handle);
  static void on_idle(uv_idle_t* handle);

  uv_check_t* check_;  // heap: freed in its close callback
  uv_idle_t* idle_;    // heap: freed in its close callback; active while dirty
  std::vector<Connection*> dirty_;
  // The batch flush_all() is working through (swapped with dirty_, so a
  // connection marked meanwhile waits for the next batch); null entries
  // were forgotten.
  std::vector<Connection*> batch_;
};

}  // namespace bentos::net
