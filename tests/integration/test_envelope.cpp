// Envelope and framing rules (behavior.md §1.1-§1.4, §1.7, limits) over a
// real socket, against the daemon binary: what the host answers before any
// plugin sees a request, and what it does with frames it cannot trust.
#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "daemon_runner.h"
#include "outcome.h"
#include "wire/codec.h"

using bentos::client::Connection;
using bentos::test::DaemonRunner;
using bentos::test::outcome;
namespace wire = bentos::wire;
namespace client = bentos::client;

namespace {

constexpr int32_t kRdwr = 2;
constexpr uint64_t kBig = (uint64_t{1} << 40) + 5;

// probe_wr (P2) is the plugin behind every device here: it can report the
// open flags it saw, and echo.
const char* kDevices = R"([
  {"name": "probe", "plugin": "probe_wr.so"},
  {"name": "small", "plugin": "probe_wr.so", "limits": {"max_frame_bytes": 1024}},
  {"name": "two", "plugin": "probe_wr.so", "limits": {"max_sessions": 2}}
])";

// One P2 cycle: write `request`, read the answer.
std::string ask(Connection& c, uint64_t fh, const std::string& request) {
  const std::string wrote = outcome(c.write(fh, request));
  if (wrote != "wrote " + std::to_string(request.size())) return "write: " + wrote;
  return outcome(c.read(fh, 4096));
}

// The 4-byte big-endian length prefix of a frame.
std::string prefix(uint32_t len) {
  std::string p(4, '\0');
  p[0] = static_cast<char>(len >> 24);
  p[1] = static_cast<char>(len >> 16);
  p[2] = static_cast<char>(len >> 8);
  p[3] = static_cast<char>(len);
  return p;
}

// A request with an explicit id, so frames built by hand can be matched.
wire::Request with_id(wire::Request req, uint64_t id) {
  req.id = id;
  return req;
}

std::string frame(const wire::Request& req) {
  std::string out;
  wire::append_request_frame(req, out);
  return out;
}

}  // namespace

TEST_CASE("§1.2: an envelope without a request member answers EINVAL with its id and fh") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("probe");
  REQUIRE(c);
  wire::Request req;
  req.kind = wire::OpKind::none;
  req.id = 77;
  req.fh = 9;
  const uint64_t id = c->send(req);
  auto reply = c->wait(id);
  REQUIRE(reply);
  CHECK(outcome(reply) == "err:EINVAL");
  CHECK(reply->id == 77);
  CHECK(reply->fh == 9);
}

TEST_CASE("§1.2: a FUSE-only op (lookup) answers ENOSYS, even on an open fh") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("probe");
  REQUIRE(c);
  wire::Request req;
  req.kind = wire::OpKind::fuse_only;
  req.fh = 3;
  auto reply = c->call(req);
  REQUIRE(reply);
  CHECK(outcome(reply) == "err:ENOSYS");
  CHECK(reply->fh == 3);
  CHECK(outcome(c->open(3, kRdwr)) == "opened");
  CHECK(outcome(c->call(req)) == "err:ENOSYS");
  CHECK(ask(*c, 3, "echo:alive") == "data:alive");  // the session is untouched
}

TEST_CASE("§1.2: a zero-length frame is an all-default envelope: EINVAL with id 0") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("probe");
  REQUIRE(c);
  c->send_bytes(std::string(4, '\0'));
  auto reply = c->next_reply();
  REQUIRE(reply);
  CHECK(outcome(reply) == "err:EINVAL");
  CHECK(reply->id == 0);
  CHECK(reply->fh == 0);
  // The connection keeps serving.
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
}

TEST_CASE("§1.3: a payload that is not a FuseMessage gets no reply, is logged, and the connection keeps serving") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("probe");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  // Field number 0x1fffffff with wire type 7: no protobuf parser accepts it.
  const std::string garbage("\xff\xff\xff\xff\x0f", 5);
  c->send_bytes(prefix(static_cast<uint32_t>(garbage.size())) + garbage);
  const uint64_t id = c->send(client::make_write(1, "echo:after"));
  // The first reply on the wire is the valid request's: nothing for the garbage.
  auto reply = c->next_reply();
  REQUIRE(reply);
  CHECK(reply->id == id);
  CHECK(outcome(reply) == "wrote 10");
  CHECK(outcome(c->read(1, 100)) == "data:after");
  CHECK(c->buffered_replies() == 0);
  CHECK_FALSE(c->closed());
  CHECK(d.wait_for_log("skipped a 5-byte frame that is not a valid FuseMessage"));
  // The warning names the connection.
  CHECK(d.log().find("warn: probe: connection ") != std::string::npos);
}

TEST_CASE("§1.3: a length prefix above max_frame_bytes closes only that connection") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto bad = d.connect("small");
  auto good = d.connect("small");
  REQUIRE((bad && good));
  CHECK(outcome(good->open(1, kRdwr)) == "opened");
  CHECK(outcome(bad->open(1, kRdwr)) == "opened");
  // A frame under the limit is served.
  CHECK(outcome(good->write(1, std::string(900, ' '))) == "wrote 900");
  bad->send_bytes(prefix(1025));
  CHECK(bad->wait_closed(3000));
  CHECK(d.wait_for_log("frame length 1025 exceeds max_frame_bytes 1024"));
  // The other connection to the same device is unaffected...
  CHECK(ask(*good, 1, "echo:still here") == "data:still here");
  // ...and new connections are accepted.
  auto fresh = d.connect("small");
  REQUIRE(fresh);
  CHECK(outcome(fresh->open(1, kRdwr)) == "opened");
  CHECK(ask(*fresh, 1, "echo:new") == "data:new");
  // The closed connection's session was ended like a release (§1.5):
  // live = good's + fresh's.
  CHECK(ask(*fresh, 1, "sessions") == "data:2 1\n");
}

TEST_CASE("framing: frames packed several per write, or split byte by byte, are all answered in order") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("probe");
  REQUIRE(c);

  // Several frames in one write.
  std::string packed = frame(with_id(client::make_open(1, kRdwr), 101)) +
                       frame(with_id(client::make_write(1, "echo:packed"), 102)) +
                       frame(with_id(client::make_read(1, 100), 103)) +
                       frame(with_id(client::make_fsync(1), 104));
  c->send_bytes(packed);
  std::vector<std::string> got;
  for (uint64_t id = 101; id <= 104; ++id) got.push_back(outcome(c->wait(id)));
  CHECK(got == std::vector<std::string>{"opened", "wrote 11", "data:packed", "ok"});

  // The same, one byte per write.
  std::string split = frame(with_id(client::make_open(2, kRdwr), 201)) +
                      frame(with_id(client::make_write(2, "echo:split"), 202)) +
                      frame(with_id(client::make_read(2, 100), 203));
  for (char byte : split) c->send_bytes(std::string(1, byte));
  got.clear();
  for (uint64_t id = 201; id <= 203; ++id) got.push_back(outcome(c->wait(id)));
  CHECK(got == std::vector<std::string>{"opened", "wrote 10", "data:split"});
  CHECK(c->undecodable_frames() == 0);
  CHECK(c->buffered_replies() == 0);
}

TEST_CASE("§1.1: replies echo ids and fhs above 32 bits unchanged") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("probe");
  REQUIRE(c);
  auto check = [&](wire::Request req, uint64_t id, const std::string& expected) {
    auto reply = c->call(with_id(std::move(req), id));
    REQUIRE(reply);
    CHECK(outcome(reply) == expected);
    CHECK(reply->id == id);
    CHECK(reply->fh == kBig);
  };
  check(client::make_open(kBig, kRdwr), kBig, "opened");
  check(client::make_write(kBig, "echo:big"), kBig + 1, "wrote 8");
  check(client::make_read(kBig, 100), kBig + 2, "data:big");
  check(client::make_release(kBig), (uint64_t{1} << 63) + 1, "ok");
  check(client::make_read(kBig, 100), UINT64_MAX, "err:EIO");  // unknown fh now
}

TEST_CASE("limits: max_sessions per connection; the next open answers EMFILE, other connections unaffected") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto a = d.connect("two");
  auto b = d.connect("two");
  REQUIRE((a && b));
  CHECK(outcome(a->open(1, kRdwr)) == "opened");
  CHECK(outcome(a->open(2, kRdwr)) == "opened");
  auto third = a->open(3, kRdwr);
  REQUIRE(third);
  CHECK(outcome(third) == "err:EMFILE");
  CHECK(third->err == 24);
  CHECK(outcome(a->read(3, 100)) == "err:EIO");  // no session was created
  CHECK(d.wait_for_log("reached max_sessions 2"));
  // The limit is per connection.
  CHECK(outcome(b->open(1, kRdwr)) == "opened");
  CHECK(outcome(b->open(2, kRdwr)) == "opened");
  CHECK(outcome(b->open(3, kRdwr)) == "err:EMFILE");
  // Re-opening an open fh replaces its session; it does not count twice (§1.4).
  CHECK(outcome(a->open(2, kRdwr)) == "opened");
  // A release frees a slot.
  CHECK(outcome(a->release(1)) == "ok");
  CHECK(outcome(a->open(3, kRdwr)) == "opened");
  CHECK(ask(*a, 3, "echo:three") == "data:three");
}

TEST_CASE("§1.7: open flags reach the plugin's session start") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("probe");
  REQUIRE(c);
  CHECK(outcome(c->open(1, 0x802)) == "opened");  // O_RDWR | O_NONBLOCK
  CHECK(ask(*c, 1, "flags") == "data:2050\n");
  CHECK(outcome(c->open(2, 0)) == "opened");  // O_RDONLY
  CHECK(ask(*c, 1, "flags") == "data:0\n");
}

TEST_CASE("§1.2: a request member with no operation set answers ENOSYS (as the SDK), with its id and fh") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("probe");
  REQUIRE(c);
  wire::Request req;
  req.kind = wire::OpKind::no_op;
  req.id = 78;
  req.fh = 4;
  const uint64_t id = c->send(req);
  auto reply = c->wait(id);
  REQUIRE(reply);
  CHECK(outcome(reply) == "err:ENOSYS");
  CHECK(reply->id == 78);
  CHECK(reply->fh == 4);
}
