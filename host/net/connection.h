// One accepted stream (a bentosd connection): reads bytes into a
// FrameDecoder, hands each frame to its Handler, and writes batched output.
//
// Self-owned: created by a Listener's owner on accept, deleted by libuv's
// close callback after close(); the Handler is told on_closed() first and
// must drop its pointer then. Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>

#include "wire/frame_decoder.h"

namespace bentos::net {

class WriteFlusher;

// Storage for an accepted stream of either transport, so the connection can
// free it with the type it was allocated as.
union StreamStorage {
  uv_stream_t stream;
  uv_pipe_t pipe;
  uv_tcp_t tcp;
};

class Connection {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_frame(const uint8_t* payload, size_t len) = 0;
    // A length prefix above max_frame_bytes; the connection closes next.
    virtual void on_oversized_frame(uint64_t length) = 0;
    // The connection is gone (peer closed, error, or close()). Called once.
    virtual void on_closed() = 0;
  };

  // Takes ownership of `storage` (initialised and accepted, from new).
  Connection(StreamStorage* storage, uint64_t id, std::string peer, uint64_t max_frame_bytes,
             WriteFlusher* flusher);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start(Handler* handler);

  // Output goes here (the codec appends frames in place); then mark_dirty().
  std::string& output() { return out_; }
  void mark_dirty();
  // Writes everything buffered, unless a write is in flight: at once as
  // far as the socket takes it, the rest through a libuv write request.
  void flush();
  // Idempotent. Buffered output is dropped.
  void close();

  uint64_t id() const { return id_; }
  const std::string& peer() const { return peer_; }
  bool closing() const { return closing_; }
  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }

  // Above this much unsent output the connection stops reading until the
  // peer catches up, so a client that never reads cannot grow us unbounded.
  static constexpr size_t kPauseReadingAbove = 64u << 20;

 private:
  ~Connection() = default;  // only via the close callback
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_written(uv_write_t* req, int status);
  void update_reading();

  StreamStorage* storage_;
  uv_stream_t* stream_;
  uint64_t id_;
  std::string peer_;
  wire::FrameDecoder decoder_;
  WriteFlusher* flusher_;
  Handler* handler_ = nullptr;
  std::string out_;       // waiting to be written
  std::string inflight_;  // being written by write_req_, from inflight_offset_
  size_t inflight_offset_ = 0;
  uv_write_t write_req_{};
  bool writing_ = false;
  bool marked_ = false;  // in the flusher's dirty set since the last flush()
  bool reading_ = false;
  bool closing_ = false;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
};

}  // namespace bentos::net
