// The raw framed-echo baseline: the bare protocol cost (framing, protobuf
// decode and encode, a Unix socket round trip) with no host logic behind it.
//
// One thread runs serve(): a poll() loop over the listening socket, the
// stop pipe and every accepted connection. Connections are non-blocking;
// replies that the socket does not take at once wait in a per-connection
// buffer and are flushed on POLLOUT.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <list>
#include <vector>

#include "bench.h"
#include "wire/codec.h"
#include "wire/frame_decoder.h"
#include "wire/ops.h"

namespace bentos::bench {
namespace {

constexpr uint64_t kMaxFrame = uint64_t{16} << 20;

struct Peer {
  int fd = -1;
  wire::FrameDecoder decoder{kMaxFrame};
  std::string out;  // reply bytes the socket has not taken yet
  size_t out_pos = 0;
  bool dead = false;
};

wire::Reply canned_reply(const wire::Request& req) {
  wire::Reply reply;
  switch (req.kind) {
    case wire::OpKind::open: reply = wire::Reply::opened(); break;
    case wire::OpKind::write: reply = wire::Reply::written(req.data.size()); break;
    case wire::OpKind::read: reply = wire::Reply::bytes("OK\n"); break;
    default: reply = wire::Reply::empty(); break;
  }
  reply.id = req.id;
  reply.fh = req.fh;
  return reply;
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Writes what the socket takes now; marks the peer dead on a hard error.
void flush_out(Peer& peer) {
  while (peer.out_pos < peer.out.size()) {
    const ssize_t n = ::send(peer.fd, peer.out.data() + peer.out_pos,
                             peer.out.size() - peer.out_pos, MSG_NOSIGNAL);
    if (n > 0) {
      peer.out_pos += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      peer.dead = true;
      return;
    }
  }
  peer.out.clear();
  peer.out_pos = 0;
}

// Reads what is there, answers every complete frame.
void serve_input(Peer& peer, std::vector<uint8_t>& buf) {
  for (;;) {
    const ssize_t n = ::recv(peer.fd, buf.data(), buf.size(), 0);
    if (n == 0) {
      peer.dead = true;
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) peer.dead = true;
      break;
    }
    const bool ok = peer.decoder.feed(buf.data(), static_cast<size_t>(n),
                                      [&](const uint8_t* payload, size_t len) {
                                        wire::Request req;
                                        if (!wire::decode_request(payload, len, req)) {
                                          wire::Reply bad = wire::Reply::error(EINVAL);
                                          wire::append_reply_frame(bad, peer.out);
                                          return;
                                        }
                                        wire::append_reply_frame(canned_reply(req), peer.out);
                                      });
    if (!ok) {
      peer.dead = true;
      return;
    }
    if (static_cast<size_t>(n) < buf.size()) break;  // drained for now
  }
  flush_out(peer);
}

}  // namespace

bool BaselineServer::start(std::string& error) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                     "/bentos-bench-baseline.XXXXXX";
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
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 128) != 0 || ::pipe2(wake_, O_CLOEXEC) != 0) {
    error = "baseline socket " + path_ + ": " + std::strerror(errno);
    return false;
  }
  set_nonblocking(listen_fd_);
  thread_ = std::thread([this] { serve(); });
  return true;
}

BaselineServer::~BaselineServer() {
  if (thread_.joinable()) {
    const char stop = 1;
    while (::write(wake_[1], &stop, 1) < 0 && errno == EINTR) {
    }
    thread_.join();
  }
  for (int fd : {listen_fd_, wake_[0], wake_[1]}) {
    if (fd >= 0) ::close(fd);
  }
  if (!path_.empty()) ::unlink(path_.c_str());
  if (!dir_.empty()) ::rmdir(dir_.c_str());
}

void BaselineServer::serve() {
  std::list<Peer> peers;  // stable addresses while polling
  std::vector<pollfd> fds;
  std::vector<Peer*> order;
  std::vector<uint8_t> buf(256 * 1024);
  for (;;) {
    fds.clear();
    order.clear();
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (Peer& peer : peers) {
      const short events = static_cast<short>(POLLIN | (peer.out.empty() ? 0 : POLLOUT));
      fds.push_back({peer.fd, events, 0});
      order.push_back(&peer);
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) break;  // stop requested
    if ((fds[1].revents & POLLIN) != 0) {
      for (;;) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        peers.emplace_back().fd = fd;
      }
    }
    for (size_t i = 0; i < order.size(); ++i) {
      Peer& peer = *order[i];
      const short revents = fds[i + 2].revents;
      if ((revents & POLLOUT) != 0) flush_out(peer);
      if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !peer.dead) serve_input(peer, buf);
    }
    for (auto it = peers.begin(); it != peers.end();) {
      if (it->dead) {
        ::close(it->fd);
        it = peers.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (Peer& peer : peers) ::close(peer.fd);
}

}  // namespace bentos::bench
