// The device layer's glue, in process (tests/support/in_process_host.h):
// what Device, Link and the five drivers do around the pure state
// machines — sessions keyed by (connection, fh), re-open, disconnect
// cleanup, request timeouts, completions from other threads, worker
// strands, frame limits. Each case turns one Host's loop itself, so it
// runs in milliseconds and without a daemon process.
#include <doctest/doctest.h>

#include <cerrno>
#include <string>

#include "in_process_host.h"

using bentos::test::InProcessHost;
using bentos::test::LoopClient;
using bentos::test::make_request;
using bentos::wire::OpKind;
using bentos::wire::Reply;
using bentos::wire::ReplyKind;
using namespace std::chrono_literals;

namespace {

constexpr int32_t kNonBlock = 0x800;
constexpr int32_t kRdwr = 2;

bool is_error(const Reply& r, int32_t err) { return r.kind == ReplyKind::error && r.err == err; }

}  // namespace

TEST_CASE("raw: sessions are keyed by (connection, fh) and end when their connection closes") {
  InProcessHost h(R"([{"name": "raw", "plugin": "probe_raw.so"}])");
  auto& dev = h.device("raw");
  LoopClient a(h, "raw"), b(h, "raw");
  // The same fh on two connections is two sessions.
  CHECK(a.open(1).kind == ReplyKind::open);
  CHECK(b.open(1).kind == ReplyKind::open);
  CHECK(a.write(1, "mine").count == 4);
  CHECK(b.write(1, "yours").count == 5);
  CHECK(a.read(1, 64).payload() == "mine");
  CHECK(b.read(1, 64).payload() == "yours");
  CHECK(dev.connection_count() == 2);
  CHECK(dev.session_count() == 2);

  // A read the plugin never answers, then the client goes away: the call
  // is forgotten and the session ended, and the other connection serves on.
  CHECK(a.write(1, "hang").count == 4);
  const uint64_t parked = a.send([] {
    auto r = make_request(OpKind::read, 1);
    r.size = 8;
    return r;
  }());
  a.settle();
  CHECK_FALSE(a.reply(parked));
  a.close();
  CHECK(h.run_until([&] { return dev.connection_count() == 1 && dev.session_count() == 1; }));
  CHECK(b.read(1, 64).payload() == "yours");
  CHECK(a.violations().empty());
  CHECK(b.violations().empty());
}

TEST_CASE("raw: a request the plugin does not answer in request_timeout_ms answers ETIMEDOUT") {
  InProcessHost h(R"([{"name": "raw", "plugin": "probe_raw.so", "limits": {"request_timeout_ms": 40}}])");
  LoopClient c(h, "raw");
  REQUIRE(c.open(1).kind == ReplyKind::open);
  REQUIRE(c.write(1, "hang").count == 4);
  const Reply r = c.read(1, 8);
  CHECK(is_error(r, ETIMEDOUT));
  CHECK(h.device("raw").timeouts() == 1);
  // The session still serves.
  CHECK(c.write(1, "after").count == 5);
  CHECK(c.read(1, 64).payload() == "after");
}

TEST_CASE("raw: completions from another thread arrive through the inbox; a wrong kind answers EIO") {
  InProcessHost h(R"([{"name": "raw", "plugin": "probe_raw.so"}])");
  LoopClient c(h, "raw");
  REQUIRE(c.open(1).kind == ReplyKind::open);
  REQUIRE(c.write(1, "thread").count == 6);
  CHECK(c.read(1, 64).payload() == "threaded");
  REQUIRE(c.write(1, "badkind").count == 7);
  CHECK(is_error(c.read(1, 64), EIO));
  CHECK(c.violations().empty());
}

TEST_CASE("raw on workers: a blocked session's strand does not hold another session's reply") {
  InProcessHost h(R"([{"name": "raw", "plugin": "probe_raw.so", "threads": 2}])");
  LoopClient c(h, "raw");
  REQUIRE(c.open(1).kind == ReplyKind::open);
  REQUIRE(c.open(2).kind == ReplyKind::open);
  REQUIRE(c.write(1, "sleep:300").count == 9);
  REQUIRE(c.write(2, "quick").count == 5);
  auto slow = make_request(OpKind::read, 1);
  slow.size = 64;
  const uint64_t slow_id = c.send(slow);
  auto quick = make_request(OpKind::read, 2);
  quick.size = 64;
  const uint64_t quick_id = c.send(quick);
  // fh 2's read is answered while fh 1's callback still blocks its worker.
  const auto quick_reply = c.await(quick_id);
  REQUIRE(quick_reply);
  CHECK(quick_reply->payload() == "quick");
  CHECK_FALSE(c.reply(slow_id));
  const auto slow_reply = c.await(slow_id, 3s);
  REQUIRE(slow_reply);
  CHECK(slow_reply->payload() == "slept");
}

TEST_CASE("P2: re-opening an fh ends the session on it first") {
  InProcessHost h(R"([{"name": "wr", "plugin": "probe_wr.so"}])");
  LoopClient c(h, "wr");
  auto ask = [&](const std::string& request) {
    const Reply w = c.write(1, request);
    REQUIRE(w.kind == ReplyKind::write);
    return c.read(1, 256).payload();
  };
  REQUIRE(c.open(1).kind == ReplyKind::open);
  CHECK(ask("sessions") == "1 0\n");
  REQUIRE(c.open(1, kRdwr | kNonBlock).kind == ReplyKind::open);
  CHECK(ask("sessions") == "1 1\n");
  CHECK(h.device("wr").session_count() == 1);
  CHECK(ask("flags") == std::to_string(kRdwr | kNonBlock) + "\n");
}

TEST_CASE("P2: a completion after the connection closed is reported stale, not delivered") {
  InProcessHost h(R"([{"name": "wr", "plugin": "probe_wr.so"}])");
  auto& dev = h.device("wr");
  {
    LoopClient c(h, "wr");
    REQUIRE(c.open(1).kind == ReplyKind::open);
    auto w = make_request(OpKind::write, 1);
    w.data = std::string("late:60");
    c.send(w);
    c.settle();
    c.close();
  }
  CHECK(h.run_until([&] { return dev.connection_count() == 0 && dev.session_count() == 0; }));
  // The plugin's late completion finds nothing: the next client is served
  // normally and sees no stray reply.
  h.run_for(100ms);
  LoopClient d(h, "wr");
  REQUIRE(d.open(1).kind == ReplyKind::open);
  REQUIRE(d.write(1, "echo:hi").kind == ReplyKind::write);
  CHECK(d.read(1, 16).payload() == "hi");
  CHECK(d.violations().empty());
}

TEST_CASE("P1: a parked read is answered by the next push, and with EIO when its fh is re-opened") {
  InProcessHost h(R"([{"name": "echo", "plugin": "echo.so", "read_when_empty": "block"}])");
  LoopClient c(h, "echo");
  REQUIRE(c.open(1).kind == ReplyKind::open);
  auto read = make_request(OpKind::read, 1);
  read.size = 64;
  const uint64_t parked = c.send(read);
  c.settle();
  CHECK_FALSE(c.reply(parked));
  CHECK(c.write(1, "ping").count == 4);
  const auto got = c.await(parked);
  REQUIRE(got);
  CHECK(got->payload() == "ping");

  const uint64_t parked_again = c.send(read);
  c.settle();
  CHECK_FALSE(c.reply(parked_again));
  REQUIRE(c.open(1).kind == ReplyKind::open);
  const auto ended = c.await(parked_again);
  REQUIRE(ended);
  CHECK(is_error(*ended, EIO));
  // Non-blocking on an empty queue: EAGAIN, not parked.
  REQUIRE(c.open(2, kRdwr | kNonBlock).kind == ReplyKind::open);
  CHECK(is_error(c.read(2, 64), EAGAIN));
}

TEST_CASE("P3: an emit inside on_activate reaches the opening listener; listeners end with their connection") {
  InProcessHost h(R"([{"name": "ev", "plugin": "probe_events.so", "config": {"announce": true}}])");
  auto& dev = h.device("ev");
  LoopClient c(h, "ev");
  REQUIRE(c.open(1, 0).kind == ReplyKind::open);
  CHECK(c.read(1, 256).payload() == "activate 1\n");
  // Writes have no channel in P3.
  CHECK(is_error(c.write(1, "x"), EACCES));
  auto read = make_request(OpKind::read, 1);
  read.size = 256;
  c.send(read);  // parks: nothing more to read
  c.settle();
  c.close();
  CHECK(h.run_until([&] { return dev.connection_count() == 0 && dev.session_count() == 0; }));
}

TEST_CASE("P4: a cycle's records stream in order; DROP cancels the cycle") {
  InProcessHost h(R"([{"name": "synth", "plugin": "synth.so", "config": {"delay_ms": 0}}])");
  LoopClient c(h, "synth");
  REQUIRE(c.open(1).kind == ReplyKind::open);
  REQUIRE(c.write(1, "abc").count == 3);
  std::string out;
  for (int i = 0; i < 4; ++i) {
    const Reply r = c.read(1, 64);
    REQUIRE(r.kind == ReplyKind::buf);
    if (r.payload().empty()) break;
    out += r.payload();
  }
  CHECK(out == "cba");

  InProcessHost slow(R"([{"name": "synth", "plugin": "synth.so", "config": {"delay_ms": 200}}])");
  LoopClient s(slow, "synth");
  REQUIRE(s.open(1).kind == ReplyKind::open);
  REQUIRE(s.write(1, "abc").count == 3);
  const Reply first = s.read(1, 64);  // record 0 comes at once
  CHECK(first.payload() == "c");
  CHECK(s.ioctl(1, 0xBE02).result == 0);  // DROP
  CHECK(s.ioctl(1, 0xBE00).result >= 0);   // GET_STATE still answers
  CHECK(s.violations().empty());
}

TEST_CASE("a frame longer than max_frame_bytes closes its connection only") {
  InProcessHost h(R"([{"name": "raw", "plugin": "probe_raw.so", "limits": {"max_frame_bytes": 1024}}])");
  auto& dev = h.device("raw");
  LoopClient bad(h, "raw"), good(h, "raw");
  REQUIRE(good.open(1).kind == ReplyKind::open);
  bad.send_raw(std::string("\x00\x10\x00\x00", 4));  // announces 1 MiB
  CHECK(h.run_until([&] {
    bad.exchange();
    return bad.closed_by_host();
  }));
  CHECK(h.run_until([&] { return dev.connection_count() == 1; }));
  CHECK(dev.stats().limits.frames_too_big == 1);
  CHECK(good.write(1, "still").count == 5);
}
