// A net::Connection over one end of a socketpair, on a private libuv loop,
// with a WriteFlusher, for the connection's unit tests. The test plays the
// peer on the other end with plain system calls, turning the loop by hand
// (no threads, no timers: every step is driven by the test).
//
// Single-threaded; one fixture per test case.
#pragma once

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/connection.h"
#include "net/write_flusher.h"

namespace connection_test {

using bentos::net::Connection;
using bentos::net::StreamStorage;
using bentos::net::WriteFlusher;

// Records what the connection tells its handler.
struct RecordingHandler : Connection::Handler {
  Connection* conn = nullptr;
  std::vector<std::string> frames;
  std::vector<uint64_t> arrived_ns;  // batch_arrived_ns() as each frame came
  std::vector<uint64_t> flushes_ns;
  bool closed = false;
  std::function<void(const std::string& frame)> then;  // runs after recording a frame

  void on_frame(const uint8_t* payload, size_t len) override {
    frames.emplace_back(reinterpret_cast<const char*>(payload), len);
    arrived_ns.push_back(conn->batch_arrived_ns());
    if (then) then(frames.back());
  }
  void on_oversized_frame(uint64_t) override {}
  void on_closed() override { closed = true; }
  void on_flush(uint64_t now_ns) override { flushes_ns.push_back(now_ns); }
};

// One connection and the test's end of its socket.
struct Peer {
  Connection* conn = nullptr;
  RecordingHandler handler;
  int fd = -1;        // the test's end, non-blocking
  std::string received;  // everything read from fd so far
  bool eof = false;
  // How much run_until() reads per loop turn: a slow reader keeps the
  // connection's writes partial (with a small socket buffer).
  size_t read_per_turn = SIZE_MAX;

  // Sends all of `bytes` (the socket buffer is large enough in these tests).
  void send(const std::string& bytes) {
    size_t at = 0;
    while (at < bytes.size()) {
      const ssize_t n = ::send(fd, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      REQUIRE(n > 0);
      at += static_cast<size_t>(n);
    }
  }
  // Reads up to `max` bytes of what is there (not waiting).
  void read_some(size_t max = SIZE_MAX) {
    char buf[65536];
    while (max > 0) {
      const ssize_t n = ::recv(fd, buf, std::min(sizeof buf, max), 0);
      if (n == 0) eof = true;
      if (n <= 0) return;
      received.append(buf, static_cast<size_t>(n));
      max -= static_cast<size_t>(n);
    }
  }
};

class ConnectionFixture {
 public:
  ConnectionFixture() {
    REQUIRE(uv_loop_init(&loop_) == 0);
    flusher_ = std::make_unique<WriteFlusher>(&loop_);
  }
  ~ConnectionFixture() {
    for (auto& p : peers_) {
      if (!p->handler.closed) p->conn->close();
      ::close(p->fd);
    }
    flusher_->close();
    uv_run(&loop_, UV_RUN_DEFAULT);  // close callbacks free the connections and handles
    flusher_.reset();
    uv_loop_close(&loop_);
  }

  // A connection over a fresh socketpair. `send_buffer`, when set, shrinks
  // the connection's socket send buffer (and the peer's receive buffer),
  // so a large output cannot be written at once.
  Peer& connect(int send_buffer = 0) {
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    if (send_buffer > 0) {
      REQUIRE(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer) == 0);
      REQUIRE(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &send_buffer, sizeof send_buffer) == 0);
    }
    REQUIRE(fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK) == 0);
    auto* storage = new StreamStorage;
    REQUIRE(uv_pipe_init(&loop_, &storage->pipe, 0) == 0);
    REQUIRE(uv_pipe_open(&storage->pipe, sv[0]) == 0);
    auto peer = std::make_unique<Peer>();
    peer->fd = sv[1];
    peer->conn = new Connection(storage, peers_.size() + 1, "test", 1 << 20, flusher_.get());
    peer->handler.conn = peer->conn;
    peer->conn->start(&peer->handler);
    peers_.push_back(std::move(peer));
    return *peers_.back();
  }

  WriteFlusher& flusher() { return *flusher_; }

  // Turns the loop (without blocking) until `done` holds, reading what
  // each peer was sent. Bounded by turns, not time: a test that cannot
  // finish fails instead of hanging.
  bool run_until(const std::function<bool()>& done) {
    for (int turn = 0; turn < 200000; ++turn) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      for (auto& p : peers_) p->read_some(p->read_per_turn);
      if (done()) return true;
    }
    return false;
  }
  // One turn of the loop, with no reading by the peers.
  void turn() { uv_run(&loop_, UV_RUN_NOWAIT); }

 private:
  uv_loop_t loop_;
  std::unique_ptr<WriteFlusher> flusher_;
  std::vector<std::unique_ptr<Peer>> peers_;
};

// A frame: 4-byte big-endian length, then the payload.
inline std::string framed(const std::string& payload) {
  const auto n = static_cast<uint32_t>(payload.size());
  std::string out{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                  static_cast<char>(n)};
  return out + payload;
}

}  // namespace connection_test
