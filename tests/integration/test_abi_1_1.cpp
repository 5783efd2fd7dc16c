// ABI 1.1 over the daemon's sockets: P1 end of output (end_output), P4
// on_writable, and plugins built against the 1.0 header (tests/compat)
// still loading and serving on this 1.1 host.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

#include "daemon_runner.h"
#include "outcome.h"

using bentos::client::make_read;
using bentos::test::DaemonRunner;
using bentos::test::outcome;

namespace {

constexpr int32_t kRdwr = 2;
constexpr int32_t kNonblock = 0x800;

const char* kDevices = R"([
  {"name": "stream", "plugin": "probe_stream.so"},
  {"name": "streamblock", "plugin": "probe_stream.so", "read_when_empty": "block"},
  {"name": "cs", "plugin": "probe_cs.so", "limits": {"max_buffered_bytes": 4096}},
  {"name": "old_stream", "plugin": "compat_stream_1_0.so"},
  {"name": "old_cs", "plugin": "compat_cs_1_0.so"}
])";

// One field of probe_cs's stats line ("... refused=1 writable=1").
long cs_stat(bentos::client::Connection& c, uint64_t fh, const std::string& key) {
  auto r = c.ioctl(fh, 0x81);
  if (!r || r->kind != bentos::wire::ReplyKind::ioctl) return -999;
  const auto at = r->data.find(" " + key + "=");
  return at == std::string::npos ? -998 : std::stol(r->data.substr(at + key.size() + 2));
}

}  // namespace

TEST_CASE("P1 end_output: a parked read (block mode) answers EOF; writes EPIPE; poll IN|HUP; EOF stays") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("streamblock");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  const uint64_t parked = c->send(make_read(1, 100));
  CHECK(outcome(c->poll(1, 0)) == "poll:4");  // parked: nothing queued, not ended
  CHECK(outcome(c->write(1, "end")) == "wrote 3");
  CHECK(outcome(c->wait(parked, 2000)) == "eof");  // not parked forever
  CHECK(outcome(c->write(1, "more")) == "err:EPIPE");
  CHECK(outcome(c->poll(1, 0)) == "poll:21");  // POLLIN | POLLOUT | POLLHUP
  CHECK(outcome(c->read(1, 100)) == "eof");
  CHECK(outcome(c->read(1, 100)) == "eof");
}

TEST_CASE("P1 end_output: reads drain the queue first, then the end's errno, sticky") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  for (const char* device : {"stream", "streamblock"}) {
    CAPTURE(device);
    auto c = d.connect(device);
    REQUIRE(c);
    CHECK(outcome(c->open(1, kRdwr | kNonblock)) == "opened");
    CHECK(outcome(c->write(1, "abc")) == "wrote 3");  // queues "3\n"
    CHECK(outcome(c->write(1, "end-err:104")) == "wrote 11");
    CHECK(outcome(c->poll(1, 0)) == "poll:21");
    CHECK(outcome(c->read(1, 100)) == "data:3\n");
    CHECK(outcome(c->read(1, 100)) == "err:ECONNRESET");  // not EAGAIN, not EOF
    CHECK(outcome(c->read(1, 100)) == "err:ECONNRESET");
    // Other sessions are untouched.
    CHECK(outcome(c->open(2, kRdwr)) == "opened");
    CHECK(outcome(c->write(2, "xy")) == "wrote 2");
    CHECK(outcome(c->read(2, 100)) == "data:2\n");
  }
}

TEST_CASE("P4 on_writable: a yield refused for max_buffered_bytes resumes when readers drain, no polling") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("cs");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->open(2, kRdwr)) == "opened");  // asks the stats
  CHECK(outcome(c->write(1, "flood:12")) == "wrote 8");  // 12 KiB through a 4 KiB bound
  CHECK(outcome(c->flush(1)) == "ok");
  size_t records = 0;
  for (;;) {
    auto r = c->read(1, 4096, 5000);
    REQUIRE(r);
    if (outcome(r) == "eof") break;
    REQUIRE(r->kind == bentos::wire::ReplyKind::buf);
    CHECK(r->data == std::string(1024, 'f'));
    ++records;
  }
  CHECK(records == 12);
  CHECK(cs_stat(*c, 2, "refused") >= 1);  // the bound was hit...
  CHECK(cs_stat(*c, 2, "writable") == cs_stat(*c, 2, "refused"));  // ...and each refusal was followed by on_writable
}

TEST_CASE("ABI 1.0 plugins load and serve on the 1.1 host, and see minor 1 in the services table") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto s = d.connect("old_stream");
  REQUIRE(s);
  CHECK(outcome(s->open(1, kRdwr)) == "opened");
  CHECK(outcome(s->write(1, "hi")) == "wrote 2");
  CHECK(outcome(s->read(1, 100)) == "data:hi");
  CHECK(outcome(s->write(1, "minor")) == "wrote 5");
  CHECK(outcome(s->read(1, 100)) == "data:host minor 1\n");
  auto p = d.connect("old_cs");
  REQUIRE(p);
  CHECK(outcome(p->open(1, kRdwr)) == "opened");
  CHECK(outcome(p->write(1, "one")) == "wrote 3");
  CHECK(outcome(p->write(1, "two")) == "wrote 3");
  CHECK(outcome(p->read(1, 100)) == "data:one");
  CHECK(outcome(p->read(1, 100)) == "data:two");
  CHECK(outcome(p->read(1, 100)) == "eof");
}
