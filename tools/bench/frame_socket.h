// One client connection of bentos-bench: a non-blocking Unix socket with a
// send buffer that frames are appended to (frames.h) and a receive buffer
// that complete frames are read from in place. No allocation per frame.
//
// Owned by the scenario that connects it; one thread.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace bentos::bench {

class FrameSocket {
 public:
  // Connects to a Unix socket path; nullptr with `error` set on failure.
  static std::unique_ptr<FrameSocket> connect(const std::string& path, std::string& error);
  ~FrameSocket();
  FrameSocket(const FrameSocket&) = delete;
  FrameSocket& operator=(const FrameSocket&) = delete;

  // Frames appended here leave on the next pump().
  std::string& out() { return out_; }
  bool idle() const { return out_pos_ == out_.size(); }
  const std::string& error() const { return error_; }

  // Sends what the socket takes, waits up to `timeout_ms` for input (not
  // at all if some is already there), and calls on_frame(payload, len) for
  // every complete frame received. False on a closed or failed socket, or
  // when nothing at all happened within the timeout (error() says which).
  template <class OnFrame>
  bool pump(OnFrame&& on_frame, int timeout_ms) {
    if (!send_pending()) return false;
    pollfd p{fd_, static_cast<short>(POLLIN | (idle() ? 0 : POLLOUT)), 0};
    const int ready = ::poll(&p, 1, timeout_ms);
    if (ready < 0 && errno != EINTR) return fail("poll");
    if (ready == 0) return fail_with("no answer within " + std::to_string(timeout_ms) + " ms");
    if ((p.revents & POLLOUT) != 0 && !send_pending()) return false;
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) return true;
    if (!receive()) return false;
    size_t pos = begin_;
    while (end_ - pos >= 4) {
      const uint8_t* h = in_.data() + pos;
      const size_t len = (size_t{h[0]} << 24) | (size_t{h[1]} << 16) | (size_t{h[2]} << 8) | size_t{h[3]};
      if (end_ - pos - 4 < len) {
        reserve_frame(len + 4, pos);
        return true;
      }
      on_frame(h + 4, len);
      pos += 4 + len;
    }
    begin_ = pos;
    return true;
  }

 private:
  explicit FrameSocket(int fd);
  bool send_pending();
  bool receive();
  // Makes room for a frame of `total` bytes starting at `pos` (not yet complete).
  void reserve_frame(size_t total, size_t pos);
  bool fail(const char* what);
  bool fail_with(std::string why);

  int fd_;
  std::string out_;
  size_t out_pos_ = 0;
  std::vector<uint8_t> in_;
  size_t begin_ = 0, end_ = 0;  // unconsumed received bytes: in_[begin_, end_)
  std::string error_;
};

}  // namespace bentos::bench
