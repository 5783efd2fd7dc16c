// P3 over the socket (behavior.md §5) with the ticker plugin (§7).
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "daemon_runner.h"
#include "outcome.h"

using bentos::client::make_read;
using bentos::test::DaemonRunner;
using bentos::test::outcome;

namespace {

constexpr int32_t kRdonly = 0;
constexpr int32_t kNonblock = 0x800;

const char* kDevices = R"([
  {"name": "ticker", "plugin": "ticker.so", "config": {"interval_ms": 40}},
  {"name": "tickeof", "plugin": "ticker.so", "config": {"interval_ms": 40}, "read_when_empty": "eof"},
  {"name": "tickslow", "plugin": "ticker.so", "config": {"interval_ms": 100000}},
  {"name": "tickmid", "plugin": "ticker.so", "config": {"interval_ms": 400}}
])";

// Reads one whole tick line (blocking read).
std::string read_tick(bentos::client::Connection& c, uint64_t fh) {
  return outcome(c.read(fh, 4096, 3000));
}

}  // namespace

TEST_CASE("ticker: activation restarts the counter; reads block until a tick; ticks are whole lines") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("ticker");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdonly)) == "opened");
  CHECK(read_tick(*c, 1) == "data:tick 1\n");
  CHECK(read_tick(*c, 1) == "data:tick 2\n");
  CHECK(outcome(c->write(1, "x")) == "err:EACCES");
  CHECK(outcome(c->flush(1)) == "ok");
  CHECK(outcome(c->ioctl(1, 1)) == "err:ENOSYS");
  CHECK(outcome(c->release(1)) == "ok");
  // Deactivated by the last release; the next activation starts at 1 again.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(outcome(c->open(2, kRdonly)) == "opened");
  CHECK(read_tick(*c, 2) == "data:tick 1\n");
}

TEST_CASE("ticker: two listeners both receive each tick; a later listener sees only later ticks") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto a = d.connect("ticker");
  auto b = d.connect("ticker");
  REQUIRE((a && b));
  CHECK(outcome(a->open(1, kRdonly)) == "opened");
  CHECK(outcome(b->open(1, kRdonly)) == "opened");
  CHECK(read_tick(*a, 1) == "data:tick 1\n");
  CHECK(read_tick(*b, 1) == "data:tick 1\n");
  CHECK(read_tick(*a, 1) == "data:tick 2\n");
  auto late = d.connect("ticker");
  REQUIRE(late);
  CHECK(outcome(late->open(1, kRdonly)) == "opened");
  const std::string first_late = read_tick(*late, 1);
  CHECK(first_late != "data:tick 1\n");
  CHECK(first_late != "data:tick 2\n");
  CHECK(first_late.rfind("data:tick ", 0) == 0);
}

TEST_CASE("ticker: disconnecting the last listener deactivates it") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  {
    auto c = d.connect("ticker");
    REQUIRE(c);
    CHECK(outcome(c->open(1, kRdonly)) == "opened");
    CHECK(read_tick(*c, 1) == "data:tick 1\n");
    CHECK(read_tick(*c, 1) == "data:tick 2\n");
  }  // disconnect without release
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto c = d.connect("ticker");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdonly)) == "opened");
  CHECK(read_tick(*c, 1) == "data:tick 1\n");  // the counter restarted
}

TEST_CASE("P3: O_NONBLOCK read with nothing queued is EAGAIN; poll is POLLIN only when queued") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("tickslow");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdonly | kNonblock)) == "opened");
  CHECK(outcome(c->read(1, 100)) == "err:EAGAIN");
  CHECK(outcome(c->poll(1, 5)) == "poll:0");  // never POLLOUT
}

TEST_CASE("P3 read_when_empty eof reproduces the SDK: an empty read is EOF") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("tickeof");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdonly)) == "opened");
  CHECK(outcome(c->read(1, 100)) == "eof");
  // A tick arrives later and is delivered whole.
  std::string got;
  for (int i = 0; i < 100 && got.rfind("data:", 0) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    got = outcome(c->read(1, 100));
  }
  CHECK(got == "data:tick 1\n");
  CHECK(outcome(c->poll(1, 1)) == "poll:0");
}

TEST_CASE("P3: a read smaller than an event gets its first bytes, then the rest") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("tickmid");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdonly)) == "opened");
  CHECK(outcome(c->read(1, 4, 3000)) == "data:tick");
  CHECK(outcome(c->read(1, 100)) == "data: 1\n");
}

TEST_CASE("§1.4 P3: re-opening an fh answers the old listener's parked read EIO") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("tickslow");  // no tick comes while the test runs
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdonly)) == "opened");
  const uint64_t parked = c->send(make_read(1, 100));
  CHECK(outcome(c->open(1, kRdonly)) == "opened");
  CHECK(outcome(c->wait(parked, 2000)) == "err:EIO");
  CHECK(outcome(c->poll(1, 0)) == "poll:0");  // the new listener is there, empty
}
