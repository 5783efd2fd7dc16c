// P4 over the socket (behavior.md §6) with the synth plugin (§7).
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "daemon_runner.h"
#include "outcome.h"

using bentos::client::make_ioctl;
using bentos::client::make_read;
using bentos::test::DaemonRunner;
using bentos::test::outcome;

namespace {

constexpr int32_t kRdwr = 2;
constexpr int32_t kNonblock = 0x800;
constexpr uint32_t kGetState = 0xBE00, kDrain = 0xBE01, kDrop = 0xBE02, kReset = 0xBE03, kGetError = 0xBE04;
constexpr uint32_t kSetUppercase = 0x01, kSetDelay = 0x02, kGetConfig = 0x80;
constexpr uint32_t kIowInt32Nr1 = (1u << 30) | (4u << 16) | 0x01;  // _IOW(0, 1, int32)

const char* kDevices = R"([
  {"name": "synth", "plugin": "synth.so", "config": {"delay_ms": 5}},
  {"name": "slowsynth", "plugin": "synth.so", "config": {"delay_ms": 300}}
])";

int state_of(bentos::client::Connection& c, uint64_t fh) {
  auto r = c.ioctl(fh, kGetState);
  return r && r->kind == bentos::wire::ReplyKind::ioctl ? r->result : -1;
}

bool wait_state(bentos::client::Connection& c, uint64_t fh, int want) {
  for (int i = 0; i < 300; ++i) {
    if (state_of(c, fh) == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Reads records until EOF or an error; returns them joined with '|'.
std::string read_all(bentos::client::Connection& c, uint64_t fh) {
  std::string joined;
  for (int i = 0; i < 100; ++i) {
    const std::string o = outcome(c.read(fh, 4096, 3000));
    if (o.rfind("data:", 0) != 0) return joined + "|" + o;
    joined += (joined.empty() ? "" : "|") + o.substr(5);
  }
  return joined + "|...";
}

std::string le32(int32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((static_cast<uint32_t>(v) >> (8 * i)) & 0xff);
  return s;
}

}  // namespace

TEST_CASE("synth: input reversed by code point, one record per read, then EOF") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("synth");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "  he")) == "wrote 4");
  CHECK(outcome(c->write(1, "llö\n")) == "wrote 5");  // records concatenated, trimmed
  CHECK(read_all(*c, 1) == "ö|l|l|e|h|eof");
  CHECK(outcome(c->read(1, 10)) == "eof");  // COMPLETE: EOF again
}

TEST_CASE("synth: GET_STATE through a whole cycle") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("slowsynth");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(state_of(*c, 1) == 0);  // OPEN
  CHECK(outcome(c->read(1, 10)) == "err:EAGAIN");  // nothing to submit
  CHECK(outcome(c->poll(1, 0)) == "poll:4");
  CHECK(outcome(c->write(1, "abc")) == "wrote 3");
  CHECK(state_of(*c, 1) == 1);  // CONFIGURED
  CHECK(outcome(c->flush(1)) == "ok");  // submit
  CHECK(state_of(*c, 1) == 2);  // PROCESSING: the first record is 300 ms away
  CHECK(outcome(c->poll(1, 0)) == "poll:0");
  CHECK(outcome(c->write(1, "more")) == "err:EBUSY");
  CHECK(outcome(c->ioctl(1, kSetUppercase, "\x01")) == "err:EBUSY");  // config while busy
  CHECK(outcome(c->ioctl(1, kDrain)) == "ioctl:0:");
  CHECK(wait_state(*c, 1, 3));  // STREAMING after the first record
  CHECK(outcome(c->poll(1, 0)) == "poll:1");
  CHECK(outcome(c->read(1, 10)) == "data:c");
  CHECK(wait_state(*c, 1, 4));  // DRAINING: the stream ended with records queued
  CHECK(outcome(c->read(1, 10)) == "data:b");
  CHECK(outcome(c->read(1, 10)) == "data:a");
  CHECK(state_of(*c, 1) == 4);  // the last record read: still DRAINING
  CHECK(outcome(c->read(1, 10)) == "eof");
  CHECK(state_of(*c, 1) == 5);  // COMPLETE
  CHECK(outcome(c->poll(1, 0)) == "poll:1");  // [fix] COMPLETE polls POLLIN
  CHECK(outcome(c->ioctl(1, kGetError)) == "ioctl:0:");
  CHECK(outcome(c->write(1, "x")) == "wrote 1");  // COMPLETE -> CONFIGURED
  CHECK(state_of(*c, 1) == 1);
}

TEST_CASE("synth: config ioctls on the low 16 bits, GET_CONFIG, short payloads, RESET") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("synth");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->ioctl(1, kIowInt32Nr1, le32(1))) == "ioctl:0:");  // _IOW(0, 1, int32) = SET_UPPERCASE
  CHECK(state_of(*c, 1) == 1);  // storing a config: OPEN -> CONFIGURED
  CHECK(outcome(c->ioctl(1, kSetDelay, le32(7))) == "ioctl:0:");
  auto cfg = c->ioctl(1, kGetConfig);
  REQUIRE(cfg);
  REQUIRE(cfg->kind == bentos::wire::ReplyKind::ioctl);
  CHECK(nlohmann::json::parse(cfg->data) == nlohmann::json({{"uppercase", true}, {"delay_ms", 7}}));
  CHECK(outcome(c->ioctl(1, kSetDelay, "\x01\x02")) == "err:EINVAL");  // short payload
  CHECK(outcome(c->ioctl(1, kSetUppercase, "")) == "err:EINVAL");
  CHECK(outcome(c->ioctl(1, 0x1234)) == "err:EINVAL");  // neither codec nor query
  CHECK(outcome(c->ioctl(1, 0xBE09)) == "err:EINVAL");  // unknown framework nr
  CHECK(outcome(c->write(1, "abc")) == "wrote 3");
  CHECK(read_all(*c, 1) == "C|B|A|eof");
  CHECK(outcome(c->ioctl(1, kReset)) == "ioctl:0:");
  CHECK(state_of(*c, 1) == 0);
  cfg = c->ioctl(1, kGetConfig);
  REQUIRE(cfg);
  CHECK(nlohmann::json::parse(cfg->data) == nlohmann::json({{"uppercase", false}, {"delay_ms", 5}}));
}

TEST_CASE("synth: on_query answers while a read is parked (replies out of order)") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("slowsynth");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "xy")) == "wrote 2");
  const uint64_t read_id = c->send(make_read(1, 10));  // submits, then parks
  const uint64_t query_id = c->send(make_ioctl(1, kGetConfig, "", 256));
  auto first = c->next_reply(3000);
  REQUIRE(first);
  CHECK(first->id == query_id);
  CHECK(outcome(c->wait(read_id, 3000)) == "data:y");
}

TEST_CASE("synth: DROP answers a parked read EOF and keeps the config; late records are dropped") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("slowsynth");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->ioctl(1, kSetUppercase, "\x01")) == "ioctl:0:");
  CHECK(outcome(c->write(1, "abc")) == "wrote 3");
  const uint64_t parked = c->send(make_read(1, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(outcome(c->ioctl(1, kDrop)) == "ioctl:0:");
  CHECK(outcome(c->wait(parked)) == "eof");
  CHECK(state_of(*c, 1) == 1);  // CONFIGURED, config kept
  CHECK(outcome(c->ioctl(1, kDrop)) == "err:EINVAL");  // nothing to drop now
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the old cycle would have yielded
  CHECK(outcome(c->poll(1, 0)) == "poll:4");  // nothing arrived from it
  CHECK(outcome(c->write(1, "q")) == "wrote 1");
  CHECK(read_all(*c, 1) == "Q|eof");  // uppercase survived the DROP
}

TEST_CASE("synth: RESET answers a parked read EOF; release answers one EIO") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("slowsynth");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "abc")) == "wrote 3");
  uint64_t parked = c->send(make_read(1, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  CHECK(outcome(c->ioctl(1, kReset)) == "ioctl:0:");
  CHECK(outcome(c->wait(parked)) == "eof");
  CHECK(state_of(*c, 1) == 0);
  CHECK(outcome(c->write(1, "abc")) == "wrote 3");
  parked = c->send(make_read(1, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  CHECK(outcome(c->release(1)) == "ok");
  CHECK(outcome(c->wait(parked)) == "err:EIO");
}

TEST_CASE("synth: invalid UTF-8 fails the submit at once (EINVAL) and returns to CONFIGURED") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("synth");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "\xff\xfe")) == "wrote 2");
  CHECK(outcome(c->flush(1)) == "err:EINVAL");
  CHECK(state_of(*c, 1) == 1);
  CHECK(outcome(c->write(1, "\xc3")) == "wrote 1");
  CHECK(outcome(c->read(1, 10)) == "err:EINVAL");  // read-triggered submit fails the same way
}

TEST_CASE("P4: a non-blocking read that would park answers EAGAIN (the submit still happens)") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("slowsynth");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr | kNonblock)) == "opened");
  CHECK(outcome(c->write(1, "ab")) == "wrote 2");
  CHECK(outcome(c->read(1, 10)) == "err:EAGAIN");
  CHECK(state_of(*c, 1) == 2);  // submitted: PROCESSING
  CHECK(outcome(c->read(1, 10)) == "err:EAGAIN");
  CHECK(wait_state(*c, 1, 3));
  CHECK(outcome(c->read(1, 10)) == "data:b");
}

TEST_CASE("§1.4 P4: re-opening an fh answers the old session's parked read EIO, then opens afresh") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("slowsynth");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "abc")) == "wrote 3");
  const uint64_t parked = c->send(make_read(1, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->wait(parked, 2000)) == "err:EIO");
  CHECK(state_of(*c, 1) == 0);  // OPEN: the new session
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the old cycle would have yielded
  CHECK(outcome(c->poll(1, 0)) == "poll:4");
}

TEST_CASE("§1.7 P4: a non-blocking read whose submit fails at once answers that errno, not EAGAIN") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("synth");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr | kNonblock)) == "opened");
  CHECK(outcome(c->write(1, "\xff\xfe")) == "wrote 2");  // invalid UTF-8: synth's process fails at once
  CHECK(outcome(c->read(1, 10)) == "err:EINVAL");
  CHECK(state_of(*c, 1) == 1);  // back to CONFIGURED
}
