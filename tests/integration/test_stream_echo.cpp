// P1 over the socket (behavior.md §3) with the echo plugin (§7): bytes
// written to an fh come back on reads of that fh; fhs are independent.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "daemon_runner.h"
#include "outcome.h"

using bentos::client::make_read;
using bentos::client::make_write;
using bentos::test::DaemonRunner;
using bentos::test::outcome;

namespace {

constexpr int32_t kRdwr = 2;
constexpr int32_t kNonblock = 0x800;

const char* kDevices = R"([
  {"name": "echo", "plugin": "echo.so"},
  {"name": "echoblock", "plugin": "echo.so", "read_when_empty": "block"},
  {"name": "echosmall", "plugin": "echo.so", "limits": {"max_buffered_bytes": 8}}
])";

}  // namespace

TEST_CASE("echo: written bytes come back on reads of the same fh; fhs are independent") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("echo");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->open(2, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "hello ")) == "wrote 6");
  CHECK(outcome(c->write(1, "world")) == "wrote 5");
  CHECK(outcome(c->write(2, "other")) == "wrote 5");
  CHECK(outcome(c->poll(1, 0)) == "poll:5");  // POLLIN|POLLOUT
  CHECK(outcome(c->read(1, 3)) == "data:hel");  // split inside the first chunk
  CHECK(outcome(c->read(1, 100)) == "data:lo world");  // coalesced across chunks
  CHECK(outcome(c->read(2, 100)) == "data:other");
  CHECK(outcome(c->poll(1, 0)) == "poll:4");  // POLLOUT always
  CHECK(outcome(c->read(1, 100)) == "eof");  // read_when_empty: eof (the SDK's default)
  CHECK(outcome(c->flush(1)) == "ok");
  CHECK(outcome(c->fsync(1)) == "ok");
  CHECK(outcome(c->ioctl(1, 0x5401)) == "err:ENOSYS");
  CHECK(outcome(c->release(1)) == "ok");
  CHECK(outcome(c->read(1, 100)) == "err:EIO");
  CHECK(outcome(c->flush(1)) == "ok");  // P1: flush on an unknown fh succeeds
}

TEST_CASE("P1 read_when_empty block: reads park FIFO and are served by later output") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("echoblock");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  const uint64_t first = c->send(make_read(1, 4));
  const uint64_t second = c->send(make_read(1, 100));
  CHECK(outcome(c->poll(1, 0)) == "poll:4");  // both parked; nothing queued
  CHECK(outcome(c->write(1, "abcdefgh")) == "wrote 8");
  CHECK(outcome(c->wait(first)) == "data:abcd");
  CHECK(outcome(c->wait(second)) == "data:efgh");
}

TEST_CASE("P1 block mode: an O_NONBLOCK session answers EAGAIN instead of parking") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("echoblock");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr | kNonblock)) == "opened");
  CHECK(outcome(c->read(1, 100)) == "err:EAGAIN");
  CHECK(outcome(c->write(1, "x")) == "wrote 1");
  CHECK(outcome(c->read(1, 100)) == "data:x");
}

TEST_CASE("P1 release answers a parked read EIO; disconnect just ends the session") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("echoblock");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  const uint64_t parked = c->send(make_read(1, 100));
  CHECK(outcome(c->release(1)) == "ok");
  CHECK(outcome(c->wait(parked)) == "err:EIO");
  CHECK(outcome(c->open(2, kRdwr)) == "opened");
  c->send(make_read(2, 100));
  c.reset();  // the daemon must simply end that session
  auto again = d.connect("echoblock");
  REQUIRE(again);
  CHECK(outcome(again->open(2, kRdwr)) == "opened");
}

TEST_CASE("P1 back-pressure: output beyond max_buffered_bytes is refused; echo reports a short write") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("echosmall");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "12345")) == "wrote 5");
  // 5 queued, bound 8: echo can queue nothing more of a 5-byte write.
  const std::string second = outcome(c->write(1, "67890"));
  CHECK(second != "wrote 5");
  CHECK(outcome(c->read(1, 100)).rfind("data:12345", 0) == 0);
  // Room again: the next write goes through.
  CHECK(outcome(c->write(1, "abc")) == "wrote 3");
}

TEST_CASE("P1 large output over the wire: every byte back, in order, across chunks and partial reads") {
  // Writes larger than echo's 64 KiB pieces, reads of other sizes: reads
  // take chunks whole, split them, and gather small leftovers, and the
  // replies leave through segmented writes. Pipelined, so several large
  // replies share one flush. On the loop and on workers (the write's bytes
  // are then copied before the frame goes).
  for (const char* device : {"echo", "echoworkers"}) {
    CAPTURE(device);
    DaemonRunner d(R"([{"name": "echo", "plugin": "echo.so"},
                       {"name": "echoworkers", "plugin": "echo.so", "threads": 2}])");
    REQUIRE(d.ready());
    auto c = d.connect(device);
    REQUIRE(c);
    CHECK(outcome(c->open(1, kRdwr)) == "opened");
    std::string sent;
    std::vector<uint64_t> writes;
    for (unsigned i = 0; i < 6; ++i) {
      std::string data(100000 + 3001 * i, '\0');
      for (size_t k = 0; k < data.size(); ++k) data[k] = static_cast<char>((k * 31 + i * 7 + k / 4099) & 0xff);
      sent += data;
      writes.push_back(c->send(make_write(1, std::move(data))));
    }
    for (size_t i = 0; i < writes.size(); ++i) {
      const auto w = c->wait(writes[i]);
      REQUIRE(w);
      CHECK(w->kind == bentos::wire::ReplyKind::write);
      CHECK(w->count == 100000 + 3001 * i);
    }
    std::string got;
    std::vector<uint64_t> reads;
    const uint64_t sizes[] = {70000, 3000, 65536, 131072, 5, 99999};
    for (uint64_t size : sizes) reads.push_back(c->send(make_read(1, size)));
    for (size_t i = 0; i < reads.size(); ++i) {
      const auto r = c->wait(reads[i]);
      REQUIRE(r);
      REQUIRE(r->kind == bentos::wire::ReplyKind::buf);
      CHECK(r->data.size() == sizes[i]);
      got += r->data;
    }
    while (got.size() < sent.size()) {
      const auto r = c->read(1, 1 << 20);
      REQUIRE(r);
      REQUIRE(r->kind == bentos::wire::ReplyKind::buf);
      REQUIRE_FALSE(r->data.empty());
      got += r->data;
    }
    CHECK(got.size() == sent.size());
    CHECK(got == sent);
    CHECK(outcome(c->read(1, 100)) == "eof");
  }
}

TEST_CASE("§1.4 P1: re-opening an fh answers the old session's parked read EIO, then opens") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("echoblock");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  const uint64_t parked = c->send(make_read(1, 100));
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->wait(parked, 2000)) == "err:EIO");  // answered, not forgotten
  // The new session is a fresh one: its own output only.
  CHECK(outcome(c->write(1, "new")) == "wrote 3");
  CHECK(outcome(c->read(1, 100)) == "data:new");
}
