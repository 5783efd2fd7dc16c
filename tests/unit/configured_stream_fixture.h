// Shared by the P4 unit tests (test_configured_stream*.cpp): reply checks,
// and sessions brought into each state through the public API only, the
// test playing the session layer (it calls process_started, yield, end).
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "patterns/configured_stream.h"
#include "patterns/pattern.h"
#include "wire/ops.h"

namespace bentos::test::p4 {

using patterns::P4State;
using patterns::P4Step;
using wire::Reply;
using wire::ReplyKind;
using Session = patterns::ConfiguredStreamMachine;
using Records = std::vector<std::string>;

inline constexpr uint64_t kMax = 64;  // max_request_bytes for most tests
inline constexpr uint32_t kGetState = 0xBE00;
inline constexpr uint32_t kDrain = 0xBE01;
inline constexpr uint32_t kDrop = 0xBE02;
inline constexpr uint32_t kReset = 0xBE03;
inline constexpr uint32_t kGetError = 0xBE04;

inline void check_error(const Reply& r, int32_t err) {
  CHECK(r.kind == ReplyKind::error);
  CHECK(r.err == err);
}

inline void check_buf(const Reply& r, const std::string& data) {
  CHECK(r.kind == ReplyKind::buf);
  CHECK(r.err == 0);
  CHECK(r.data == data);
}

inline void check_written(const Reply& r, uint64_t count) {
  CHECK(r.kind == ReplyKind::write);
  CHECK(r.err == 0);
  CHECK(r.count == count);
}

inline void check_empty_success(const Reply& r) {
  CHECK(r.kind == ReplyKind::empty);
  CHECK(r.err == 0);
}

inline void check_result(const Reply& r, int32_t result) {
  CHECK(r.kind == ReplyKind::ioctl);
  CHECK(r.err == 0);
  CHECK(r.result == result);
  CHECK(r.data.empty());
}

// No side effect for the session layer to carry out.
inline void check_no_actions(const P4Step& step) {
  CHECK_FALSE(step.submit);
  CHECK_FALSE(step.cancel);
  CHECK_FALSE(step.drain);
  CHECK_FALSE(step.reset_config);
  CHECK_FALSE(step.stale);
  CHECK(step.answers.empty());
}

inline Reply reply_of(const P4Step& step) {
  REQUIRE(step.reply.has_value());
  return *step.reply;
}

// A step answered at once, with nothing else to do.
inline Reply immediate(const P4Step& step) {
  check_no_actions(step);
  return reply_of(step);
}

// A read that parked: no answer now, nothing to do.
inline void check_parked(const P4Step& step) {
  check_no_actions(step);
  CHECK_FALSE(step.reply.has_value());
}

// A submit step: the records handed over for a fresh cycle.
inline Records submitted(const P4Step& step) {
  CHECK(step.submit);
  CHECK(step.cycle != 0);
  return step.records;
}

// A framework ioctl that must change nothing: returns its reply.
inline Reply quiet_ioctl(Session& s, uint32_t cmd) {
  const P4State before = s.state();
  const size_t queued = s.queued_records();
  const P4Step step = s.framework_ioctl(cmd);
  check_no_actions(step);
  CHECK(s.state() == before);
  CHECK(s.queued_records() == queued);
  return reply_of(step);
}

inline Session in_open(bool nb = false) { return Session(nb, kMax); }

inline Session in_configured(bool nb = false) {
  Session s(nb, kMax);
  check_written(immediate(s.write("cfg")), 3);
  REQUIRE(s.state() == P4State::configured);
  return s;
}

inline Session in_processing(bool nb = false) {
  Session s = in_configured(nb);
  const P4Step st = s.flush();
  REQUIRE(st.submit);
  check_empty_success(reply_of(s.process_started(st.cycle, 0)));
  REQUIRE(s.state() == P4State::processing);
  return s;
}

inline Session in_streaming(bool nb = false, const Records& out = {"rec"}) {
  Session s = in_processing(nb);
  for (const std::string& r : out) CHECK(s.yield(s.current_cycle(), r).answers.empty());
  REQUIRE(s.state() == P4State::streaming);
  return s;
}

// DRAINING with "rec" still queued.
inline Session in_draining(int32_t err = 0) {
  Session s = in_streaming();
  CHECK(s.end(s.current_cycle(), err).drain);
  REQUIRE(s.state() == P4State::draining);
  REQUIRE(s.queued_records() == 1);
  return s;
}

// DRAINING with the last record already read.
inline Session in_draining_empty(int32_t err = 0) {
  Session s = in_draining(err);
  check_buf(immediate(s.read(100, 1)), "rec");
  REQUIRE(s.state() == P4State::draining);
  REQUIRE(s.queued_records() == 0);
  return s;
}

inline Session in_complete(int32_t err = 0, bool nb = false) {
  Session s = in_processing(nb);
  CHECK(s.end(s.current_cycle(), err).drain);
  REQUIRE(s.state() == P4State::complete);
  return s;
}

// One session in each of the six states.
inline std::vector<Session> every_state() {
  return {in_open(), in_configured(), in_processing(), in_streaming(), in_draining(), in_complete()};
}

// The records the next flush submits (the session must be CONFIGURED).
inline Records next_submit(Session& s) { return submitted(s.flush()); }

}  // namespace bentos::test::p4
