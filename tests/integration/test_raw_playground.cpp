// The playground raw-layer device (behavior.md §7): every op logged with its
// fields, a per-fh buffer replaced by writes and read once, ioctl ENOTTY,
// poll 0.
#include <doctest/doctest.h>

#include "daemon_runner.h"
#include "outcome.h"

using bentos::test::DaemonRunner;
using bentos::test::outcome;

TEST_CASE("playground: write replaces the fh's buffer; the first read after a write returns it") {
  DaemonRunner d(R"([{"name": "playground", "plugin": "playground.so"}])");
  REQUIRE(d.ready());
  auto c = d.connect("playground");
  REQUIRE(c);
  CHECK(outcome(c->open(1, 0x802)) == "opened");
  CHECK(outcome(c->open(2, 0)) == "opened");
  CHECK(outcome(c->read(1, 100)) == "eof");  // nothing written yet
  CHECK(outcome(c->write(1, "first")) == "wrote 5");
  CHECK(outcome(c->write(1, "second")) == "wrote 6");  // replaces
  CHECK(outcome(c->read(2, 100)) == "eof");  // fhs are independent
  CHECK(outcome(c->read(1, 3)) == "data:sec");  // up to size
  CHECK(outcome(c->read(1, 100)) == "eof");  // later reads: EOF
  CHECK(outcome(c->ioctl(1, 0x5401)) == "err:ENOTTY");
  CHECK(outcome(c->poll(1, 5)) == "poll:0");
  CHECK(outcome(c->flush(1)) == "ok");
  CHECK(outcome(c->fsync(1, true)) == "ok");
  CHECK(outcome(c->release(1)) == "ok");
  // Every op was logged with its fields, flags by their Linux names.
  CHECK(d.wait_for_log("O_RDWR|O_NONBLOCK"));
  for (const char* op : {"open", "read", "write", "ioctl", "poll", "flush", "fsync", "release"}) {
    INFO(op);
    CHECK(d.log().find(op) != std::string::npos);
  }
  CHECK(d.log().find("size=3") != std::string::npos);
  CHECK(d.log().find("cmd=0x5401") != std::string::npos);
}
