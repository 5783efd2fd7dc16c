#include "baseline_server.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

namespace bentos::bench {
namespace {

// One accepted connection: bytes of an incomplete frame, and echoed bytes
// the socket has not taken yet (while any wait, the peer is not read).
struct Peer {
  int fd = -1;
  std::vector<uint8_t> in = std::vector<uint8_t>(256 * 1024);
  size_t in_len = 0;
  std::string out;
  size_t out_pos = 0;
};

// Length of the complete frames at the start of [p, p + len).
size_t complete_frames(const uint8_t* p, size_t len) {
  size_t pos = 0;
  while (len - pos >= 4) {
    const size_t frame = 4 + ((size_t{p[pos]} << 24) | (size_t{p[pos + 1]} << 16) | (size_t{p[pos + 2]} << 8) |
                              size_t{p[pos + 3]});
    if (len - pos < frame) break;
    pos += frame;
  }
  return pos;
}

// Sends from `data`; returns bytes taken, or -1 on a hard error.
ssize_t send_some(int fd, const char* data, size_t len) {
  size_t done = 0;
  while (done < len) {
    const ssize_t n = ::send(fd, data + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      return -1;
    }
  }
  return static_cast<ssize_t>(done);
}

void watch(int epoll_fd, int op, Peer& peer, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = peer.fd;
  ::epoll_ctl(epoll_fd, op, peer.fd, &ev);
}

// Flushes waiting output; false on a hard error.
bool flush(int epoll_fd, Peer& peer) {
  const ssize_t n = send_some(peer.fd, peer.out.data() + peer.out_pos, peer.out.size() - peer.out_pos);
  if (n < 0) return false;
  peer.out_pos += static_cast<size_t>(n);
  if (peer.out_pos == peer.out.size()) {
    peer.out.clear();
    peer.out_pos = 0;
    watch(epoll_fd, EPOLL_CTL_MOD, peer, EPOLLIN);
  }
  return true;
}

// Reads once and echoes every frame completed; false when the peer is gone.
bool serve_input(int epoll_fd, Peer& peer) {
  if (peer.in_len == peer.in.size()) peer.in.resize(peer.in.size() * 2);  // one frame larger than the buffer
  const ssize_t n = ::recv(peer.fd, peer.in.data() + peer.in_len, peer.in.size() - peer.in_len, MSG_DONTWAIT);
  if (n == 0) return false;
  if (n < 0) return errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK;
  peer.in_len += static_cast<size_t>(n);
  const size_t whole = complete_frames(peer.in.data(), peer.in_len);
  if (whole == 0) return true;
  // Straight from the receive buffer; only what the socket refuses is kept.
  const char* data = reinterpret_cast<const char*>(peer.in.data());
  const ssize_t sent = send_some(peer.fd, data, whole);
  if (sent < 0) return false;
  if (static_cast<size_t>(sent) < whole) {
    peer.out.assign(data + sent, whole - static_cast<size_t>(sent));
    watch(epoll_fd, EPOLL_CTL_MOD, peer, EPOLLOUT);
  }
  std::memmove(peer.in.data(), peer.in.data() + whole, peer.in_len - whole);
  peer.in_len -= whole;
  return true;
}

}  // namespace

bool BaselineServer::start(std::string& error) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/bentos-bench-baseline.XXXXXX";
  std::vector<char> dir(tmpl.begin(), tmpl.end());
  dir.push_back('\0');
  if (::mkdtemp(dir.data()) == nullptr) {
    error = "mkdtemp " + tmpl + ": " + std::strerror(errno);
    return false;
  }
  dir_ = dir.data();
  path_ = dir_ + "/baseline.sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path) {
    error = "socket path too long: " + path_;
    return false;
  }
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (listen_fd_ < 0 || epoll_fd_ < 0 || stop_fd_ < 0 ||
      ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 128) != 0) {
    error = "baseline socket " + path_ + ": " + std::strerror(errno);
    return false;
  }
  for (int fd : {listen_fd_, stop_fd_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  child_ = ::fork();
  if (child_ < 0) {
    error = std::string("fork the baseline server: ") + std::strerror(errno);
    return false;
  }
  if (child_ == 0) {
    serve();
    ::_exit(0);
  }
  return true;
}

BaselineServer::~BaselineServer() {
  if (child_ > 0) {
    const uint64_t one = 1;
    while (::write(stop_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
    int status = 0;
    while (::waitpid(child_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  for (int fd : {listen_fd_, epoll_fd_, stop_fd_}) {
    if (fd >= 0) ::close(fd);
  }
  if (!path_.empty()) ::unlink(path_.c_str());
  if (!dir_.empty()) ::rmdir(dir_.c_str());
}

void BaselineServer::serve() {
  std::unordered_map<int, std::unique_ptr<Peer>> peers;
  epoll_event events[64];
  for (;;) {
    const int n = ::epoll_wait(epoll_fd_, events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == stop_fd_) {
        for (auto& [peer_fd, peer] : peers) ::close(peer_fd);
        return;
      }
      if (fd == listen_fd_) {
        for (;;) {
          const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          auto peer = std::make_unique<Peer>();
          peer->fd = c;
          watch(epoll_fd_, EPOLL_CTL_ADD, *peer, EPOLLIN);
          peers.emplace(c, std::move(peer));
        }
        continue;
      }
      auto it = peers.find(fd);
      if (it == peers.end()) continue;
      Peer& peer = *it->second;
      bool alive = true;
      if ((events[i].events & EPOLLOUT) != 0) alive = flush(epoll_fd_, peer);
      if (alive && peer.out.empty() && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
        alive = serve_input(epoll_fd_, peer);
      }
      if (!alive) {
        ::close(fd);  // also leaves the epoll set
        peers.erase(it);
      }
    }
  }
}

}  // namespace bentos::bench
