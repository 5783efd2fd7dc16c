// Connection: sockets, framing and reply buffering. The text helpers
// (errno names, describe, flag parsing) live in format.cpp.
#include "client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <chrono>
#include <cstring>
#include <thread>

#include "net/endpoint.h"
#include "wire/codec.h"

namespace bentos::client {

namespace {

using Clock = std::chrono::steady_clock;

// A point in time computed once, so loops interrupted by EINTR or partial
// progress never extend the caller's timeout. Negative timeout = never.
class Deadline {
 public:
  explicit Deadline(int timeout_ms)
      : infinite_(timeout_ms < 0), at_(Clock::now() + std::chrono::milliseconds(timeout_ms)) {}

  // For poll(2): -1 when infinite, otherwise what is left (0 once passed).
  int remaining_ms() const {
    if (infinite_) return -1;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(at_ - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
  }
  bool expired() const { return !infinite_ && Clock::now() >= at_; }

 private:
  bool infinite_;
  Clock::time_point at_;
};

std::string errno_text(int err) { return std::strerror(err); }

// The daemon may not have created or started listening on its socket yet.
bool worth_retrying(int err) {
  return err == ECONNREFUSED || err == ENOENT || err == EAGAIN || err == ETIMEDOUT;
}

// Connects one socket to `addr`, waiting no longer than the deadline (a TCP
// connect to an unreachable host would otherwise block for minutes). Returns
// a blocking fd, or -1 with `err` set.
int connect_once(int family, const sockaddr* addr, socklen_t len, const Deadline& deadline,
                 int& err) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  auto fail = [&](int e) {
    err = e;
    ::close(fd);
    return -1;
  };
  if (::connect(fd, addr, len) != 0) {
    if (errno != EINPROGRESS && errno != EINTR) return fail(errno);
    for (;;) {
      pollfd p{fd, POLLOUT, 0};
      const int n = ::poll(&p, 1, deadline.remaining_ms());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(errno);
      if (n == 0) return fail(ETIMEDOUT);
      break;
    }
    int so_error = 0;
    socklen_t so_len = sizeof so_error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len) != 0) return fail(errno);
    if (so_error != 0) return fail(so_error);
  }
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) return fail(errno);
  if (family != AF_UNIX) {
    // Requests are small and each one waits for its answer: no Nagle delay.
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

int connect_unix(const net::Endpoint& ep, const Deadline& deadline, int& err) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, ep.path.data(), ep.path.size());  // length checked by parse_endpoint
  return connect_once(AF_UNIX, reinterpret_cast<const sockaddr*>(&addr), sizeof addr, deadline,
                      err);
}

// Tries every address the name resolves to; `err` keeps the last failure.
int connect_tcp(const net::Endpoint& ep, const Deadline& deadline, int& err,
                std::string& resolve_error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const std::string port = std::to_string(ep.port);
  const int rc = ::getaddrinfo(ep.host.c_str(), port.c_str(), &hints, &list);
  if (rc != 0) {
    resolve_error = std::string("cannot resolve '") + ep.host + "': " + ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = list; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = connect_once(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline, err);
  }
  ::freeaddrinfo(list);
  return fd;
}

}  // namespace

// --- request builders -------------------------------------------------------

namespace {
wire::Request make(uint64_t fh, wire::OpKind kind) {
  wire::Request r;
  r.fh = fh;
  r.kind = kind;
  return r;
}
}  // namespace

wire::Request make_open(uint64_t fh, int32_t flags) {
  wire::Request r = make(fh, wire::OpKind::open);
  r.flags = flags;
  return r;
}

wire::Request make_read(uint64_t fh, uint64_t size, int64_t offset) {
  wire::Request r = make(fh, wire::OpKind::read);
  r.size = size;
  r.offset = offset;
  return r;
}

wire::Request make_write(uint64_t fh, std::string data, int64_t offset) {
  wire::Request r = make(fh, wire::OpKind::write);
  r.data = std::move(data);
  r.offset = offset;
  return r;
}

wire::Request make_flush(uint64_t fh) { return make(fh, wire::OpKind::flush); }

wire::Request make_release(uint64_t fh, int32_t flags) {
  wire::Request r = make(fh, wire::OpKind::release);
  r.flags = flags;
  return r;
}

wire::Request make_fsync(uint64_t fh, bool datasync) {
  wire::Request r = make(fh, wire::OpKind::fsync);
  r.datasync = datasync;
  return r;
}

wire::Request make_ioctl(uint64_t fh, uint32_t cmd, std::string in_buf, uint64_t out_bufsz) {
  wire::Request r = make(fh, wire::OpKind::ioctl);
  r.cmd = cmd;
  r.data = std::move(in_buf);
  r.out_bufsz = out_bufsz;
  return r;
}

wire::Request make_poll(uint64_t fh, uint32_t events) {
  wire::Request r = make(fh, wire::OpKind::poll);
  r.events = events;
  return r;
}

// --- Connection -------------------------------------------------------------

std::unique_ptr<Connection> Connection::connect(const std::string& endpoint, std::string& error,
                                                int timeout_ms) {
  net::Endpoint ep;
  // A relative socket path is a convenience for people at a shell
  // ("run/kv.sock"); the daemon itself only takes absolute ones.
  std::string text = endpoint;
  if (!text.empty() && text[0] != '/' && text.find("://") == std::string::npos) {
    text = std::filesystem::absolute(text).lexically_normal().string();
  }
  if (!net::parse_endpoint(text, ep, error)) return nullptr;
  const Deadline deadline(timeout_ms);
  for (;;) {
    int err = 0;
    std::string resolve_error;
    const int fd = ep.kind == net::Endpoint::Kind::unix_socket
                       ? connect_unix(ep, deadline, err)
                       : connect_tcp(ep, deadline, err, resolve_error);
    if (fd >= 0) return adopt(fd);
    if (!resolve_error.empty()) {
      error = resolve_error;
      return nullptr;
    }
    if (!worth_retrying(err) || deadline.expired()) {
      error = "cannot connect to " + ep.uri() + ": " + errno_text(err);
      if (worth_retrying(err)) error += " (gave up after " + std::to_string(timeout_ms) + " ms)";
      return nullptr;
    }
    const int left = deadline.remaining_ms();
    std::this_thread::sleep_for(std::chrono::milliseconds(left < 0 || left > 20 ? 20 : left));
  }
}

std::unique_ptr<Connection> Connection::adopt(int fd) {
  return std::unique_ptr<Connection>(new Connection(fd));
}

Connection::Connection(int fd) : fd_(fd) {}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

void Connection::mark_eof(std::string why) {
  if (!eof_) last_error_ = std::move(why);
  eof_ = true;
}

void Connection::write_all(const char* data, size_t len) {
  if (write_failed_) return;  // one report is enough; later writes would fail alike
  while (len > 0) {
    // MSG_NOSIGNAL: a peer that went away must not kill the test or tool
    // with SIGPIPE; the failure shows up as a closed connection instead.
    const ssize_t n = ::send(fd_, data, len, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      len -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Only for an adopted non-blocking fd: wait for room, then go on.
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, -1) >= 0 || errno == EINTR) continue;
    }
    write_failed_ = true;
    last_error_ = "write failed: " + errno_text(n < 0 ? errno : EIO);
    return;
  }
}

uint64_t Connection::send(wire::Request req) {
  if (req.id == 0) req.id = next_id_;
  // Keep assigned ids clear of explicit ones chosen by the caller.
  if (req.id >= next_id_) next_id_ = req.id + 1;
  std::string frame;
  wire::append_request_frame(req, frame);
  write_all(frame.data(), frame.size());
  return req.id;
}

void Connection::send_bytes(const std::string& raw) { write_all(raw.data(), raw.size()); }

bool Connection::read_some(int timeout_ms) {
  if (eof_) return false;
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    const int n = ::poll(&p, 1, timeout_ms);
    if (n > 0) break;
    if (n == 0) return false;
    if (errno != EINTR) {
      mark_eof("poll failed: " + errno_text(errno));
      return false;
    }
  }
  char buf[64 * 1024];
  ssize_t got;
  do {
    got = ::recv(fd_, buf, sizeof buf, 0);
  } while (got < 0 && errno == EINTR);
  if (got == 0) {
    mark_eof("connection closed by peer");
    return false;
  }
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;  // spurious wakeup
    mark_eof("read failed: " + errno_text(errno));
    return false;
  }
  const bool ok = decoder_.feed(reinterpret_cast<const uint8_t*>(buf), static_cast<size_t>(got),
                                [this](const uint8_t* payload, size_t len) {
                                  wire::Reply reply;
                                  if (wire::decode_reply(payload, len, reply)) {
                                    pending_.push_back(std::move(reply));
                                  } else {
                                    ++undecodable_frames_;
                                  }
                                });
  if (!ok) {
    mark_eof("reply frame of " + std::to_string(decoder_.oversized_length()) +
             " bytes exceeds the client's limit");
    return false;
  }
  return true;
}

std::optional<wire::Reply> Connection::wait(uint64_t id, int timeout_ms) {
  const Deadline deadline(timeout_ms);
  size_t searched = 0;  // pending_[0, searched) is known not to hold `id`
  for (;;) {
    for (size_t i = searched; i < pending_.size(); ++i) {
      if (pending_[i].id == id) {
        wire::Reply reply = std::move(pending_[i]);
        pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
        return reply;
      }
    }
    searched = pending_.size();
    if (eof_) return std::nullopt;  // last_error_ says why
    if (!read_some(deadline.remaining_ms()) && !eof_) {
      if (deadline.expired()) {
        last_error_ = "no reply for id " + std::to_string(id) + " within " +
                      std::to_string(timeout_ms) + " ms";
        return std::nullopt;
      }
    }
  }
}

std::optional<wire::Reply> Connection::next_reply(int timeout_ms) {
  const Deadline deadline(timeout_ms);
  for (;;) {
    if (!pending_.empty()) {
      wire::Reply reply = std::move(pending_.front());
      pending_.pop_front();
      return reply;
    }
    if (eof_) return std::nullopt;
    if (!read_some(deadline.remaining_ms()) && !eof_ && deadline.expired()) {
      last_error_ = "no reply within " + std::to_string(timeout_ms) + " ms";
      return std::nullopt;
    }
  }
}

bool Connection::wait_closed(int timeout_ms) {
  const Deadline deadline(timeout_ms);
  while (!eof_) {
    if (!read_some(deadline.remaining_ms()) && !eof_ && deadline.expired()) return false;
  }
  return true;
}

std::optional<wire::Reply> Connection::call(wire::Request req, int timeout_ms) {
  const uint64_t id = send(std::move(req));
  return wait(id, timeout_ms);
}

std::optional<wire::Reply> Connection::open(uint64_t fh, int32_t flags, int timeout_ms) {
  return call(make_open(fh, flags), timeout_ms);
}

std::optional<wire::Reply> Connection::read(uint64_t fh, uint64_t size, int timeout_ms) {
  return call(make_read(fh, size), timeout_ms);
}

std::optional<wire::Reply> Connection::write(uint64_t fh, std::string data, int timeout_ms) {
  return call(make_write(fh, std::move(data)), timeout_ms);
}

std::optional<wire::Reply> Connection::flush(uint64_t fh, int timeout_ms) {
  return call(make_flush(fh), timeout_ms);
}

std::optional<wire::Reply> Connection::release(uint64_t fh, int timeout_ms) {
  return call(make_release(fh), timeout_ms);
}

std::optional<wire::Reply> Connection::fsync(uint64_t fh, bool datasync, int timeout_ms) {
  return call(make_fsync(fh, datasync), timeout_ms);
}

std::optional<wire::Reply> Connection::ioctl(uint64_t fh, uint32_t cmd, std::string in_buf,
                                             uint64_t out_bufsz, int timeout_ms) {
  return call(make_ioctl(fh, cmd, std::move(in_buf), out_bufsz), timeout_ms);
}

std::optional<wire::Reply> Connection::poll(uint64_t fh, uint32_t events, int timeout_ms) {
  return call(make_poll(fh, events), timeout_ms);
}

}  // namespace bentos::client
