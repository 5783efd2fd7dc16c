#include "frame_socket.h"

#include <sys/un.h>
#include <unistd.h>

namespace bentos::bench {

namespace {
constexpr size_t kReceiveBuffer = 1u << 20;
}

std::unique_ptr<FrameSocket> FrameSocket::connect(const std::string& path, std::string& error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    error = "socket path too long: " + path;
    return nullptr;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = "connect " + path + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<FrameSocket>(new FrameSocket(fd));
}

FrameSocket::FrameSocket(int fd) : fd_(fd), in_(kReceiveBuffer) {}

FrameSocket::~FrameSocket() { ::close(fd_); }

bool FrameSocket::send_pending() {
  while (out_pos_ < out_.size()) {
    const ssize_t n = ::send(fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      out_pos_ += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    } else {
      return fail("send");
    }
  }
  out_.clear();
  out_pos_ = 0;
  return true;
}

bool FrameSocket::receive() {
  if (begin_ == end_) begin_ = end_ = 0;
  if (end_ == in_.size()) {  // compact: move the unconsumed tail to the front
    std::memmove(in_.data(), in_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  for (;;) {
    const ssize_t n = ::recv(fd_, in_.data() + end_, in_.size() - end_, MSG_DONTWAIT);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      return true;
    }
    if (n == 0) return fail_with("the peer closed the connection");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    return fail("recv");
  }
}

void FrameSocket::reserve_frame(size_t total, size_t pos) {
  begin_ = pos;
  if (total > in_.size()) in_.resize(total);
}

bool FrameSocket::fail(const char* what) { return fail_with(std::string(what) + ": " + std::strerror(errno)); }

bool FrameSocket::fail_with(std::string why) {
  error_ = std::move(why);
  return false;
}

}  // namespace bentos::bench
