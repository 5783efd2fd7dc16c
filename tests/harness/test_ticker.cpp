// The ticker example (plugins/ticker, P3) through bentos/testing.hpp, on the
// harness's manual clock: no sleeping, and each tick lands exactly when
// advance() reaches it. tests/integration/test_event_ticker.cpp runs the
// same plugin under the daemon on real time.
#include <bentos/testing.hpp>
#include <doctest/doctest.h>
#include <poll.h>

#include <chrono>

namespace bt = bentos::testing;
using namespace std::chrono_literals;

namespace {
const std::string kTicker = BENTOS_TEST_PLUGIN_DIR "/ticker.so";
const bt::options kEvery250 = {.config = R"({"interval_ms": 250})"};
}  // namespace

TEST_CASE("ticker: a read parks until the next tick, which advance() fires at its time") {
  bt::host h(kTicker, kEvery250);
  auto f = h.open(O_RDONLY);
  auto tick = f.start_read();
  h.advance(249ms);
  CHECK_FALSE(tick.ready());
  h.advance(1ms);
  CHECK(tick.wait().data == "tick 1\n");
  CHECK(h.now_ms() == 250);
}

TEST_CASE("ticker: ticks queue while nobody reads; a read takes the whole ones that fit") {
  bt::host h(kTicker, kEvery250);
  auto f = h.open(O_RDONLY);
  CHECK(f.poll(POLLIN).revents == 0);
  h.advance(1000ms);  // four ticks
  CHECK(f.poll(POLLIN).revents == POLLIN);
  CHECK(f.read(14).data == "tick 1\ntick 2\n");  // two whole events fit in 14 bytes
  CHECK(f.read().data == "tick 3\ntick 4\n");
}

TEST_CASE("ticker: the last release stops the timer; the next activation counts from 1") {
  bt::host h(kTicker, kEvery250);
  auto f = h.open(O_RDONLY);
  h.advance(500ms);
  CHECK(f.read().data == "tick 1\ntick 2\n");
  CHECK(f.release().ok());
  h.advance(10s);  // nothing runs: on_deactivate stopped the timer
  auto g = h.open(O_RDONLY);
  h.advance(250ms);
  CHECK(g.read().data == "tick 1\n");
}

TEST_CASE("ticker: a later listener sees only the ticks after it opened; disconnect deactivates") {
  bt::host h(kTicker, kEvery250);
  auto& first = h.connect();
  auto a = first.open(O_RDONLY);
  h.advance(500ms);
  auto b = h.connect().open(O_RDONLY);
  h.advance(250ms);
  CHECK(a.read().data == "tick 1\ntick 2\ntick 3\n");
  CHECK(b.read().data == "tick 3\n");
  first.disconnect();
  CHECK(b.release().ok());  // the last listener: deactivated
  auto c = h.open(O_RDONLY);
  h.advance(250ms);
  CHECK(c.read().data == "tick 1\n");
}

TEST_CASE("ticker: writes are refused, and its config is checked at create") {
  bt::host h(kTicker, kEvery250);
  auto f = h.open(O_RDONLY);
  CHECK(f.write("x").error == EACCES);
  CHECK(f.ioctl(1).error == ENOSYS);
  CHECK_THROWS_WITH_AS(bt::host(kTicker, {.config = R"({"interval_ms": 0})"}), doctest::Contains("interval_ms"),
                       bt::failure);
}

TEST_CASE("ticker: a loop-only driver is refused workers, as the daemon refuses it") {
  CHECK_THROWS_WITH_AS(bt::host(kTicker, {.config = R"({"interval_ms": 250})", .device = R"({"threads": 2})"}),
                       doctest::Contains("threads"), bt::failure);
}
