// The client library against a fake device: a thread on the other end of a
// socketpair (or a listening socket) that decodes requests and answers with
// whatever framing, order or misbehaviour a test wants.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "client.h"
#include "wire/codec.h"
#include "wire/frame_decoder.h"

namespace {

using namespace bentos;
using client::Connection;
using Clock = std::chrono::steady_clock;

// The device side of one connection. Owned by a test; used only by the
// server thread once that is started (the test waits for it by join).
class FakePeer {
 public:
  explicit FakePeer(int fd) : fd_(fd) {}
  ~FakePeer() { close(); }

  // Next decoded request; false on EOF, timeout or a bad frame.
  bool next_request(wire::Request& out, int timeout_ms = 5000) {
    while (requests_.empty()) {
      std::string bytes;
      if (!read_some(bytes, timeout_ms)) return false;
      bool good = true;
      decoder_.feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                    [&](const uint8_t* p, size_t n) {
                      wire::Request r;
                      if (wire::decode_request(p, n, r)) {
                        requests_.push_back(r);
                      } else {
                        good = false;
                      }
                    });
      if (!good) return false;
    }
    out = requests_.front();
    requests_.pop_front();
    return true;
  }

  // Raw bytes, for send_bytes tests: exactly `n` bytes or false.
  bool read_exactly(size_t n, std::string& out, int timeout_ms = 5000) {
    while (raw_.size() < n) {
      std::string bytes;
      if (!read_some(bytes, timeout_ms)) return false;
      raw_ += bytes;
    }
    out = raw_.substr(0, n);
    raw_.erase(0, n);
    return true;
  }

  // Answers `req` with `reply`, echoing its id and fh.
  void answer(const wire::Request& req, wire::Reply reply) {
    reply.id = req.id;
    reply.fh = req.fh;
    std::string frame;
    wire::append_reply_frame(reply, frame);
    write_raw(frame);
  }

  void write_raw(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      // CHECK, not REQUIRE: this runs on the server thread, where a throw
      // would terminate the test binary.
      CHECK(n > 0);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  bool read_some(std::string& out, int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    out.assign(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  wire::FrameDecoder decoder_{uint64_t{1} << 30};
  std::deque<wire::Request> requests_;
  std::string raw_;
};

// A connected client plus a server thread running `script` on the fake
// device. The destructor joins, so a script must end on its own.
struct Pair {
  std::unique_ptr<Connection> conn;
  std::unique_ptr<FakePeer> peer;
  std::thread server;

  explicit Pair(std::function<void(FakePeer&)> script) {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    conn = Connection::adopt(fds[0]);
    peer = std::make_unique<FakePeer>(fds[1]);
    server = std::thread([this, s = std::move(script)] { s(*peer); });
  }
  ~Pair() {
    if (server.joinable()) server.join();
  }
};

wire::Reply frame_reply(uint64_t id, wire::Reply r) {
  r.id = id;
  return r;
}

std::string framed(const wire::Reply& r) {
  std::string out;
  wire::append_reply_frame(r, out);
  return out;
}

long elapsed_ms(Clock::time_point start) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

// A fresh private directory for sockets; removed with its contents.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/bentos-client-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    ::unlink((path + "/dev.sock").c_str());
    ::rmdir(path.c_str());
  }
};

int listen_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  return fd;
}

// Accepts one connection and answers each request with `opened`/`ok`.
void serve_one(int listen_fd) {
  const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  CHECK(fd >= 0);
  if (fd < 0) return;
  FakePeer peer(fd);
  wire::Request req;
  while (peer.next_request(req)) {
    peer.answer(req, req.kind == wire::OpKind::open ? wire::Reply::opened() : wire::Reply::empty());
  }
}

}  // namespace

TEST_CASE("call: a request goes out with its fields and the matching reply comes back") {
  wire::Request seen;
  Pair p([&](FakePeer& peer) {
    CHECK(peer.next_request(seen));
    peer.answer(seen, wire::Reply::opened());
    wire::Request rd;
    CHECK(peer.next_request(rd));
    peer.answer(rd, wire::Reply::bytes("bentos\n"));
  });
  auto r = p.conn->open(7, O_RDWR | O_NONBLOCK);
  REQUIRE(r);
  CHECK(r->kind == wire::ReplyKind::open);
  CHECK(r->fh == 7);
  auto rd = p.conn->read(7, 100);
  REQUIRE(rd);
  CHECK(client::describe(*rd) == "read 7 bytes: \"bentos\\n\"");
  p.server.join();  // `seen` is the server thread's until then
  CHECK(seen.kind == wire::OpKind::open);
  CHECK(seen.fh == 7);
  CHECK(seen.flags == (O_RDWR | O_NONBLOCK));
  CHECK(seen.id == r->id);
}

TEST_CASE("send assigns increasing ids and keeps explicit ones") {
  std::vector<uint64_t> ids;
  Pair p([&](FakePeer& peer) {
    wire::Request r;
    for (int i = 0; i < 4; ++i) {
      CHECK(peer.next_request(r));
      ids.push_back(r.id);
    }
  });
  CHECK(p.conn->send(client::make_flush(1)) == 1);
  CHECK(p.conn->send(client::make_flush(1)) == 2);
  wire::Request explicit_id = client::make_flush(1);
  explicit_id.id = 100;
  CHECK(p.conn->send(explicit_id) == 100);
  CHECK(p.conn->send(client::make_flush(1)) == 101);
  p.server.join();
  CHECK(ids == std::vector<uint64_t>{1, 2, 100, 101});
}

TEST_CASE("wait buffers replies for other ids when answers come out of order") {
  Pair p([](FakePeer& peer) {
    wire::Request a, b, c;
    CHECK(peer.next_request(a));
    CHECK(peer.next_request(b));
    CHECK(peer.next_request(c));
    peer.answer(c, wire::Reply::written(3));
    peer.answer(b, wire::Reply::written(2));
    peer.answer(a, wire::Reply::written(1));
  });
  const uint64_t a = p.conn->send(client::make_write(1, "a"));
  const uint64_t b = p.conn->send(client::make_write(1, "bb"));
  const uint64_t c = p.conn->send(client::make_write(1, "ccc"));
  auto ra = p.conn->wait(a);
  REQUIRE(ra);
  CHECK(ra->count == 1);
  CHECK(p.conn->buffered_replies() == 2);
  auto rc = p.conn->wait(c);
  REQUIRE(rc);
  CHECK(rc->count == 3);
  auto rb = p.conn->wait(b);
  REQUIRE(rb);
  CHECK(rb->count == 2);
  CHECK(p.conn->buffered_replies() == 0);
}

TEST_CASE("next_reply returns buffered replies first, then in arrival order") {
  Pair p([](FakePeer& peer) {
    wire::Request a, b, c;
    CHECK(peer.next_request(a));
    CHECK(peer.next_request(b));
    CHECK(peer.next_request(c));
    peer.answer(b, wire::Reply::polled(0x4));
    peer.answer(c, wire::Reply::polled(0x1));
    peer.answer(a, wire::Reply::polled(0x5));
  });
  const uint64_t a = p.conn->send(client::make_poll(1, 1));
  const uint64_t b = p.conn->send(client::make_poll(1, 1));
  const uint64_t c = p.conn->send(client::make_poll(1, 1));
  REQUIRE(p.conn->wait(a));  // buffers b and c on the way
  auto first = p.conn->next_reply();
  auto second = p.conn->next_reply();
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->id == b);
  CHECK(second->id == c);
  CHECK_FALSE(p.conn->next_reply(20));
}

TEST_CASE("replies split into single bytes or packed in one write are decoded") {
  Pair p([](FakePeer& peer) {
    wire::Request a, b, c;
    CHECK(peer.next_request(a));
    CHECK(peer.next_request(b));
    CHECK(peer.next_request(c));
    const std::string one = framed(frame_reply(a.id, wire::Reply::bytes("split")));
    for (char ch : one) {
      peer.write_raw(std::string(1, ch));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    peer.write_raw(framed(frame_reply(b.id, wire::Reply::ioctl_result(3, "\xde\xad"))) +
                   framed(frame_reply(c.id, wire::Reply::error(EAGAIN))));
  });
  const uint64_t a = p.conn->send(client::make_read(1, 10));
  const uint64_t b = p.conn->send(client::make_ioctl(1, 0xbe01, "", 16));
  const uint64_t c = p.conn->send(client::make_read(1, 10));
  auto rc = p.conn->wait(c);
  REQUIRE(rc);
  CHECK(client::describe(*rc) == "error EAGAIN (11)");
  auto ra = p.conn->wait(a);
  REQUIRE(ra);
  CHECK(ra->data == "split");
  auto rb = p.conn->wait(b);
  REQUIRE(rb);
  CHECK(client::describe(*rb) == "ioctl result=3 buf=dead");
}

TEST_CASE("peer close: wait returns nullopt, closed() and wait_closed() report it") {
  Pair p([](FakePeer& peer) {
    wire::Request r;
    CHECK(peer.next_request(r));
    peer.close();
  });
  const uint64_t id = p.conn->send(client::make_read(1, 10));
  CHECK_FALSE(p.conn->wait(id, 2000));
  CHECK(p.conn->closed());
  CHECK(p.conn->last_error() == "connection closed by peer");
  CHECK(p.conn->wait_closed(0));
}

TEST_CASE("replies sent before the close stay available") {
  Pair p([](FakePeer& peer) {
    wire::Request a, b;
    CHECK(peer.next_request(a));
    CHECK(peer.next_request(b));
    peer.answer(a, wire::Reply::empty());
    peer.answer(b, wire::Reply::bytes(""));
    peer.close();
  });
  const uint64_t a = p.conn->send(client::make_flush(1));
  const uint64_t b = p.conn->send(client::make_read(1, 1));
  CHECK(p.conn->wait_closed(2000));
  CHECK(p.conn->buffered_replies() == 2);
  auto rb = p.conn->wait(b, 0);
  REQUIRE(rb);
  CHECK(client::describe(*rb) == "EOF");
  auto ra = p.conn->wait(a, 0);
  REQUIRE(ra);
  CHECK(client::describe(*ra) == "ok");
}

TEST_CASE("timeouts: wait and wait_closed give up without closing") {
  Pair p([](FakePeer& peer) {
    wire::Request r;
    CHECK(peer.next_request(r));
    // Never answers; waits for the client to hang up.
    std::string ignored;
    peer.read_exactly(1, ignored, 5000);
  });
  const uint64_t id = p.conn->send(client::make_read(1, 10));
  const auto start = Clock::now();
  CHECK_FALSE(p.conn->wait(id, 80));
  CHECK(elapsed_ms(start) >= 75);
  CHECK(elapsed_ms(start) < 2000);
  CHECK(p.conn->last_error().find("within 80 ms") != std::string::npos);
  CHECK_FALSE(p.conn->closed());
  CHECK_FALSE(p.conn->wait_closed(30));
  ::shutdown(p.conn->fd(), SHUT_WR);  // lets the server thread finish
}

TEST_CASE("send_bytes writes exactly the given bytes") {
  const std::string garbage("\x00\x00\x00\x05hello\xff\xff\xff\xff", 13);
  std::string got;
  Pair p([&](FakePeer& peer) { CHECK(peer.read_exactly(garbage.size(), got)); });
  p.conn->send_bytes(garbage);
  p.server.join();
  CHECK(got == garbage);
}

TEST_CASE("writing to a closed peer does not raise SIGPIPE") {
  Pair p([](FakePeer& peer) { peer.close(); });
  p.server.join();
  const std::string big(1 << 20, 'x');
  const uint64_t id = p.conn->send(client::make_write(1, big));  // would kill us with SIGPIPE
  p.conn->send(client::make_flush(1));
  CHECK(p.conn->closed());
  CHECK_FALSE(p.conn->wait(id, 1000));
}

TEST_CASE("undecodable frames are skipped and counted") {
  Pair p([](FakePeer& peer) {
    wire::Request r;
    CHECK(peer.next_request(r));
    peer.write_raw(std::string("\x00\x00\x00\x02\xff\xff", 6));  // not a FuseMessage
    std::string request_frame;  // a request is not a reply
    wire::append_request_frame(client::make_flush(1), request_frame);
    peer.write_raw(request_frame);
    peer.answer(r, wire::Reply::written(5));
  });
  auto reply = p.conn->write(1, "hello");
  REQUIRE(reply);
  CHECK(reply->count == 5);
  CHECK(p.conn->undecodable_frames() == 2);
}

TEST_CASE("an oversized reply length prefix closes the connection") {
  Pair p([](FakePeer& peer) {
    wire::Request r;
    CHECK(peer.next_request(r));
    peer.write_raw("\xff\xff\xff\xff");
    std::string ignored;
    peer.read_exactly(1, ignored, 2000);
  });
  const uint64_t id = p.conn->send(client::make_flush(1));
  CHECK_FALSE(p.conn->wait(id, 2000));
  CHECK(p.conn->closed());
  CHECK(p.conn->last_error().find("exceeds") != std::string::npos);
  ::shutdown(p.conn->fd(), SHUT_WR);
}

TEST_CASE("make_* helpers fill the request fields") {
  CHECK(client::make_open(3, O_WRONLY).flags == O_WRONLY);
  const auto rd = client::make_read(3, 4096, 10);
  CHECK(rd.kind == wire::OpKind::read);
  CHECK(rd.fh == 3);
  CHECK(rd.size == 4096);
  CHECK(rd.offset == 10);
  CHECK(rd.id == 0);
  const auto io = client::make_ioctl(3, 0xbe01, "ab", 64);
  CHECK(io.cmd == 0xbe01);
  CHECK(io.data == "ab");
  CHECK(io.out_bufsz == 64);
  CHECK(client::make_fsync(3, true).datasync);
  CHECK(client::make_poll(3, 0x5).events == 0x5);
  CHECK(client::make_release(3).kind == wire::OpKind::release);
}

TEST_CASE("connect: unix socket that appears late, bare path and unix:// URI") {
  TempDir dir;
  const std::string path = dir.path + "/dev.sock";
  std::thread server([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const int lfd = listen_unix(path);
    serve_one(lfd);
    serve_one(lfd);
    ::close(lfd);
  });
  std::string error;
  auto conn = Connection::connect(path, error, 5000);
  REQUIRE_MESSAGE(conn, error);
  auto r = conn->open(1, O_RDWR);
  REQUIRE(r);
  CHECK(r->kind == wire::ReplyKind::open);
  conn.reset();  // ends the first serve_one
  auto conn2 = Connection::connect("unix://" + path, error, 5000);
  REQUIRE_MESSAGE(conn2, error);
  CHECK(conn2->flush(1));
  conn2.reset();
  server.join();
}

TEST_CASE("connect: tcp://127.0.0.1:port") {
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(lfd, 4) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  std::thread server([&] { serve_one(lfd); });
  std::string error;
  auto conn = Connection::connect("tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), error);
  REQUIRE_MESSAGE(conn, error);
  auto r = conn->release(1);
  REQUIRE(r);
  CHECK(client::describe(*r) == "ok");
  conn.reset();
  server.join();
  ::close(lfd);
}

TEST_CASE("connect: errors") {
  std::string error;
  // A relative path is taken from the working directory (people type
  // run/kv.sock); with nothing there the error names the absolute path.
  CHECK_FALSE(Connection::connect("no-such-dir-here/relative.sock", error, 100));
  CHECK(error.find(std::filesystem::current_path().string() + "/no-such-dir-here/relative.sock") != std::string::npos);
  CHECK_FALSE(Connection::connect("ftp://host:1", error, 100));
  CHECK(error.find("expected") != std::string::npos);
  TempDir dir;
  const auto start = Clock::now();
  CHECK_FALSE(Connection::connect(dir.path + "/missing.sock", error, 100));
  CHECK(elapsed_ms(start) >= 90);
  CHECK(error.find("gave up after 100 ms") != std::string::npos);
}
