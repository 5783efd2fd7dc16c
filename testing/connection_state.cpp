// The client side of the harness: what the test sends and receives on its
// end of a connection's socketpair, and waiting for an answer.
//
// Why a socketpair rather than no socket at all: the Device serves Links,
// and a Link is a net::Connection reading frames from a stream. Feeding
// the Device through a socketpair keeps every byte on the daemon's path
// (framing, codec, batching, back-pressure, disconnect cleanup) with one
// new entry point, Device::adopt_connection, where a fake Link would have
// been a second implementation to keep in step. Nothing is bound in the
// file system, and the test never sees the descriptors.
//
// Thread: a connection_state belongs to the test's thread (the loop
// thread), like its host_state.
#include <sys/socket.h>

#include "harness_state.h"

namespace bentos::testing::detail {

namespace {

reply from_wire(const wire::Reply& w) {
  reply r;
  switch (w.kind) {
    case wire::ReplyKind::error: r.what = reply::kind::error; break;
    case wire::ReplyKind::empty: r.what = reply::kind::empty; break;
    case wire::ReplyKind::open: r.what = reply::kind::opened; break;
    case wire::ReplyKind::buf: r.what = reply::kind::data; break;
    case wire::ReplyKind::write: r.what = reply::kind::written; break;
    case wire::ReplyKind::ioctl: r.what = reply::kind::ioctl; break;
    case wire::ReplyKind::poll: r.what = reply::kind::poll; break;
  }
  r.error = w.err;
  r.data = w.payload();
  r.written = w.count;
  r.result = w.result;
  r.revents = w.revents;
  return r;
}

}  // namespace

wire::Request request(wire::OpKind kind, uint64_t fh) {
  wire::Request r;
  r.kind = kind;
  r.fh = fh;
  return r;
}

bool connection_state::exchange() {
  if (fd < 0) return false;
  bool moved = false;
  while (!out.empty()) {
    const ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    if (n <= 0) break;  // full (the host paused reading) or closed
    out.erase(0, static_cast<size_t>(n));
    moved = true;
  }
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) eof = true;
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
    moved = true;
  }
  while (in.size() >= 4) {
    const auto* p = reinterpret_cast<const uint8_t*>(in.data());
    const uint32_t len = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
    if (in.size() < 4 + size_t{len}) break;
    wire::Reply reply;
    if (!wire::decode_reply(p + 4, len, reply)) throw failure("the host sent a frame that is not a reply");
    if (!replies.emplace(reply.id, std::move(reply)).second)
      throw failure("the host answered request " + std::to_string(reply.id) + " twice");
    in.erase(0, 4 + size_t{len});
  }
  return moved;
}

uint64_t connection_state::send(wire::Request request) {
  if (fd < 0) throw failure("an op on a connection that was disconnected");
  request.id = next_id++;
  wire::append_request_frame(request, out);
  exchange();
  return request.id;
}

pending connection_state::start(wire::Request r, std::string what) {
  const uint64_t id = send(std::move(r));
  return pending(shared_from_this(), id, std::move(what));
}

reply connection_state::await(uint64_t id, const std::string& what, std::chrono::milliseconds timeout) {
  host->run_until([&] { return replies.count(id) > 0 || eof; }, timeout);
  host->throw_plugin_errors();
  auto it = replies.find(id);
  if (it == replies.end())
    throw failure(what + " got no answer within " + std::to_string(timeout.count()) + " ms" +
                  (eof ? " (the host closed the connection)" : " (parked? use start_*() and wait())"));
  reply r = from_wire(it->second);
  replies.erase(it);
  return r;
}

}  // namespace bentos::testing::detail
