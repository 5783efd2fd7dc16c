// The synth example (plugins/synth, P4) through bentos/testing.hpp: its
// config ioctls with the payload helpers, its JSON query, and its paced
// output on the manual clock (record k at k x delay_ms after the submit).
// tests/integration/test_configured_synth.cpp keeps the P4 rows (GET_STATE,
// DRAIN, DROP, RESET) against the daemon.
#include <bentos/testing.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace bt = bentos::testing;
using namespace std::chrono_literals;

namespace {
const std::string kSynth = BENTOS_TEST_PLUGIN_DIR "/synth.so";
const bt::options kDelay100 = {.config = R"({"delay_ms": 100})"};
constexpr uint32_t kSetUppercase = 0x01, kSetDelay = 0x02, kGetConfig = 0x80;
}  // namespace

TEST_CASE("synth: records come delay_ms apart, as the clock reaches them") {
  bt::host h(kSynth, kDelay100);
  auto f = h.open();
  CHECK(f.write("abc").ok());
  auto first = f.start_read();  // submits the cycle; parks until a record
  h.advance(99ms);
  CHECK_FALSE(first.ready());
  h.advance(1ms);
  CHECK(first.wait().data == "c");
  h.advance(200ms);
  CHECK(f.read().data == "b");
  CHECK(f.read().data == "a");
  CHECK(f.read().eof());
}

TEST_CASE("synth: config ioctls take int32 payloads; GET_CONFIG answers JSON") {
  bt::host h(kSynth, kDelay100);
  auto f = h.open();
  CHECK(f.ioctl(kSetUppercase, bt::payload::int32(1)).ok());
  CHECK(f.ioctl(kSetDelay, bt::payload::int32(7)).ok());
  CHECK(f.ioctl(kSetDelay, bt::payload::int32(-1)).error == EINVAL);
  CHECK(f.ioctl(kSetDelay, "\x01").error == EINVAL);  // shorter than an int32
  const auto config = f.ioctl(kGetConfig);
  REQUIRE(config.ok());
  CHECK(config.result == 0);
  CHECK(nlohmann::json::parse(config.data) == nlohmann::json{{"uppercase", true}, {"delay_ms", 7}});
  // The session's own config applies to its next cycle: upper-cased, 7 ms apart.
  CHECK(f.write("ok").ok());
  auto record = f.start_read();
  h.advance(7ms);
  CHECK(record.wait().data == "K");
}

TEST_CASE("synth: each session has its own config") {
  bt::host h(kSynth, kDelay100);
  auto a = h.open();
  auto b = h.open();
  CHECK(a.ioctl(kSetDelay, bt::payload::int32(1)).ok());
  CHECK(nlohmann::json::parse(b.ioctl(kGetConfig).data)["delay_ms"] == 100);
}
