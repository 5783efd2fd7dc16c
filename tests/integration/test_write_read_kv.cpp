// Every P2 row (patterns.md §4) over a real socket, against the daemon
// binary, with the kv example as the driver. kv's own behaviour is tested
// in process: tests/harness/test_kv.cpp.
#include <doctest/doctest.h>

#include "daemon_runner.h"
#include "outcome.h"

using bentos::test::DaemonRunner;
using bentos::test::outcome;

namespace {

constexpr int32_t kRdwr = 2;

const char* kKvDevices = R"([
  {"name": "kv", "plugin": "kv.so"},
  {"name": "kvsmall", "plugin": "kv.so", "limits": {"max_request_bytes": 16}}
])";

}  // namespace

TEST_CASE("P2: a fresh session's read is EAGAIN; poll is POLLOUT in IDLE") {
  DaemonRunner d(kKvDevices);
  REQUIRE(d.ready());
  auto c = d.connect("kv");
  REQUIRE(c);
  CHECK(outcome(c->open(7, kRdwr)) == "opened");
  CHECK(outcome(c->read(7, 100)) == "err:EAGAIN");
  CHECK(outcome(c->poll(7, 0x05)) == "poll:4");
  CHECK(outcome(c->fsync(7)) == "ok");
  CHECK(outcome(c->flush(7)) == "ok");  // flush in IDLE: success, no submit
}

TEST_CASE("P2: writes accumulate into one request; flush submits; poll POLLIN; EBUSY until read") {
  DaemonRunner d(kKvDevices);
  REQUIRE(d.ready());
  auto c = d.connect("kv");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "ci")) == "wrote 2");
  CHECK(outcome(c->poll(1, 1)) == "poll:4");  // ACCUMULATING
  CHECK(outcome(c->write(1, "ty=Par")) == "wrote 6");
  CHECK(outcome(c->write(1, "is")) == "wrote 2");
  CHECK(outcome(c->flush(1)) == "ok");
  CHECK(outcome(c->poll(1, 1)) == "poll:1");  // RESPONSE_READY
  CHECK(outcome(c->write(1, "more")) == "err:EBUSY");
  CHECK(outcome(c->flush(1)) == "ok");  // flush in RESPONSE_READY: success
  CHECK(outcome(c->read(1, 100)) == "data:OK\n");
  CHECK(outcome(c->write(1, "city")) == "wrote 4");
  CHECK(outcome(c->read(1, 100)) == "data:Paris\n");
}

TEST_CASE("P2: partial reads, then the EOF window once, then EAGAIN; a write ends the window") {
  DaemonRunner d(kKvDevices);
  REQUIRE(d.ready());
  auto c = d.connect("kv");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "w=abcdefgh")) == "wrote 10");
  CHECK(outcome(c->read(1, 100)) == "data:OK\n");
  CHECK(outcome(c->write(1, "w")) == "wrote 1");
  CHECK(outcome(c->read(1, 3)) == "data:abc");  // submit on read, delivers up to size
  CHECK(outcome(c->poll(1, 1)) == "poll:1");
  CHECK(outcome(c->read(1, 3)) == "data:def");
  CHECK(outcome(c->read(1, 3)) == "data:gh\n");
  CHECK(outcome(c->read(1, 3)) == "eof");  // [fix] EOF once
  CHECK(outcome(c->read(1, 3)) == "err:EAGAIN");
  // A write ends the window.
  CHECK(outcome(c->write(1, "w")) == "wrote 1");
  CHECK(outcome(c->read(1, 100)) == "data:abcdefgh\n");
  CHECK(outcome(c->write(1, "w")) == "wrote 1");
  CHECK(outcome(c->flush(1)) == "ok");
  CHECK(outcome(c->read(1, 100)) == "data:abcdefgh\n");
  CHECK(outcome(c->write(1, "w")) == "wrote 1");  // in the EOF window
  CHECK(outcome(c->read(1, 100)) == "data:abcdefgh\n");  // not EOF: the write ended it
}

TEST_CASE("P2: EFBIG beyond max_request_bytes, nothing appended") {
  DaemonRunner d(kKvDevices);
  REQUIRE(d.ready());
  auto c = d.connect("kvsmall");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "k=0123456789")) == "wrote 12");
  CHECK(outcome(c->write(1, "abcde")) == "err:EFBIG");  // 17 > 16
  CHECK(outcome(c->write(1, "abcd")) == "wrote 4");     // exactly 16
  CHECK(outcome(c->read(1, 100)) == "data:OK\n");
  CHECK(outcome(c->write(1, "k")) == "wrote 1");
  CHECK(outcome(c->read(1, 100)) == "data:0123456789abcd\n");
}

TEST_CASE("P2: sessions are independent, on one connection and across connections with the same fh") {
  DaemonRunner d(kKvDevices);
  REQUIRE(d.ready());
  auto a = d.connect("kv");
  auto b = d.connect("kv");
  REQUIRE((a && b));
  CHECK(outcome(a->open(1, kRdwr)) == "opened");
  CHECK(outcome(a->open(2, kRdwr)) == "opened");
  CHECK(outcome(b->open(1, kRdwr)) == "opened");  // same fh, other connection
  CHECK(outcome(a->write(1, "x=1")) == "wrote 3");
  CHECK(outcome(a->write(2, "y=2")) == "wrote 3");
  CHECK(outcome(b->read(1, 100)) == "err:EAGAIN");  // b's fh 1 saw nothing
  CHECK(outcome(a->flush(2)) == "ok");
  CHECK(outcome(a->poll(1, 1)) == "poll:4");  // fh 1 still ACCUMULATING
  CHECK(outcome(a->read(2, 100)) == "data:OK\n");
  CHECK(outcome(a->read(1, 100)) == "data:OK\n");
  CHECK(outcome(b->write(1, "x")) == "wrote 1");
  CHECK(outcome(b->read(1, 100)) == "data:1\n");
}

TEST_CASE("P2: release ends the session; later ops answer the unknown-fh rules") {
  DaemonRunner d(kKvDevices);
  REQUIRE(d.ready());
  auto c = d.connect("kv");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "a=1")) == "wrote 3");
  CHECK(outcome(c->release(1)) == "ok");
  CHECK(outcome(c->read(1, 100)) == "err:EIO");
  CHECK(outcome(c->write(1, "a")) == "err:EIO");
  CHECK(outcome(c->poll(1, 1)) == "err:EIO");
  CHECK(outcome(c->ioctl(1, 0x1234)) == "err:EIO");
  CHECK(outcome(c->flush(1)) == "err:EIO");  // P2: flush on an unknown fh is EIO
  CHECK(outcome(c->fsync(1)) == "ok");
  CHECK(outcome(c->release(1)) == "ok");
  // Re-opening the fh starts a fresh session.
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->read(1, 100)) == "err:EAGAIN");
}

TEST_CASE("P2: re-open of an open fh ends the old session (its accumulated input is gone)") {
  DaemonRunner d(kKvDevices);
  REQUIRE(d.ready());
  auto c = d.connect("kv");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "half")) == "wrote 4");
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->read(1, 100)) == "err:EAGAIN");  // IDLE again: nothing to submit
}

TEST_CASE("P2: ioctl is not a P2 op (ENOSYS)") {
  DaemonRunner d(kKvDevices);
  REQUIRE(d.ready());
  auto c = d.connect("kv");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->ioctl(1, 0x5401)) == "err:ENOSYS");
}
