// One accepted stream (a bentosd connection): reads bytes into a
// FrameDecoder, hands each frame to its Handler, and writes batched output.
// The output is a SegmentedOutput (frame headers inline, large payloads in
// their own buffers), written with one writev per flush; what the socket
// does not take at once goes through one libuv write request, which keeps
// those buffers alive until it is done.
//
// Self-owned: created by a Listener's owner on accept, deleted by libuv's
// close callback after close(); the Handler is told on_closed() first and
// must drop its pointer then. Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>
#include <vector>

#include "wire/frame_decoder.h"
#include "wire/segmented_output.h"

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
    // One whole frame; `payload` is valid only during the call.
    virtual void on_frame(const uint8_t* payload, size_t len) = 0;
    // A length prefix above max_frame_bytes; the connection closes next.
    virtual void on_oversized_frame(uint64_t length) = 0;
    // The connection is gone (peer closed, error, or close()). Called once.
    virtual void on_closed() = 0;
    // Everything buffered so far is about to be handed to the socket, at
    // `now_ns` (util::monotonic_ns): the moment replies' latency ends.
    virtual void on_flush(uint64_t now_ns) { (void)now_ns; }
  };

  // Takes ownership of `storage` (initialised and accepted, from new).
  Connection(StreamStorage* storage, uint64_t id, std::string peer, uint64_t max_frame_bytes,
             WriteFlusher* flusher);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start(Handler* handler);

  // Output goes here (the codec appends frames in place); then mark_dirty().
  wire::SegmentedOutput& output() { return out_; }
  void mark_dirty();
  // Writes everything buffered, unless a write is in flight: at once as
  // far as the socket takes it, the rest through a libuv write request.
  // `now_ns` is the caller's one clock reading for all it flushes.
  void flush(uint64_t now_ns);
  // Idempotent. Buffered output is dropped.
  void close();

  uint64_t id() const { return id_; }
  const std::string& peer() const { return peer_; }
  bool closing() const { return closing_; }
  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }
  // When the bytes being handed to on_frame() arrived: one clock reading
  // per read callback, shared by every frame that read completes (a frame
  // counts as arriving with its last bytes).
  uint64_t batch_arrived_ns() const { return batch_arrived_ns_; }

  // Above this much unsent output (spliced payloads included) the
  // connection stops reading until the peer catches up, so a client that
  // never reads cannot grow us unbounded.
  static constexpr size_t kPauseReadingAbove = 64u << 20;

 private:
  ~Connection() = default;  // only via the close callback
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_written(uv_write_t* req, int status);
  void update_reading();
  // uv_bufs_ := the pieces of `out` after its first `skip` bytes.
  void gather(const wire::SegmentedOutput& out, size_t skip);

  StreamStorage* storage_;
  uv_stream_t* stream_;
  uint64_t id_;
  std::string peer_;
  wire::FrameDecoder decoder_;
  WriteFlusher* flusher_;
  Handler* handler_ = nullptr;
  wire::SegmentedOutput out_;       // waiting to be written
  wire::SegmentedOutput inflight_;  // being written by write_req_, from inflight_offset_
  size_t inflight_offset_ = 0;
  std::vector<uv_buf_t> uv_bufs_;   // gather()'s result; capacity kept
  uv_write_t write_req_{};
  bool writing_ = false;
  bool marked_ = false;  // in the flusher's dirty list since the last flush()
  bool reading_ = false;
  bool closing_ = false;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
  uint64_t batch_arrived_ns_ = 0;
};

}  // namespace bentos::net
