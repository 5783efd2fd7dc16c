// What every device shares inside one Host: the loop, the inbox plugins
// complete through, the write batcher, and the host-wide connection limit.
//
// Owned by the Host; loop thread only (the inbox itself is thread-safe).
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>

#include "net/inherited_sockets.h"
#include "net/write_flusher.h"
#include "loop/loop_inbox.h"

namespace bentos::loop {

class HostContext {
 public:
  HostContext(uv_loop_t* loop, uint64_t max_connections)
      : loop_(loop),
        inbox_(std::make_shared<loop::LoopInbox>(loop)),
        flusher_(loop),
        max_connections_(max_connections) {
    // Completions drained from the inbox produce replies: send them now.
    inbox_->set_after_drain([this] { flusher_.flush_all(); });
  }

  uv_loop_t* loop() const { return loop_; }
  const std::shared_ptr<loop::LoopInbox>& inbox() const { return inbox_; }
  net::WriteFlusher& flusher() { return flusher_; }

  // Where device sockets come from and go to across restarts (the
  // daemon's SocketStore); nullptr: always bound anew, unlinked at close.
  net::SocketHandover* socket_handover() const { return socket_handover_; }
  void set_socket_handover(net::SocketHandover* handover) { socket_handover_ = handover; }

  uint64_t next_connection_id() { return ++last_connection_id_; }
  bool admit_connection() {
    if (open_connections_ >= max_connections_) return false;
    ++open_connections_;
    return true;
  }
  void connection_closed() { --open_connections_; }
  uint64_t open_connections() const { return open_connections_; }
  uint64_t max_connections() const { return max_connections_; }

  void close() {
    inbox_->close();
    flusher_.close();
  }

 private:
  uv_loop_t* loop_;
  std::shared_ptr<loop::LoopInbox> inbox_;
  net::WriteFlusher flusher_;
  uint64_t max_connections_;
  net::SocketHandover* socket_handover_ = nullptr;
  uint64_t last_connection_id_ = 0;
  uint64_t open_connections_ = 0;
};

}  // namespace bentos::loop
