// P4 configured stream (behavior.md §6), part 2: the stream's records and
// end (first record, zero-length records, FIFO parked reads, on_drain once
// per cycle), the framework ioctl table (type byte 0xBE) in every state,
// cancellation by DROP and RESET, stale output of cancelled cycles, the
// stored error, the session's end and the config gate. Every [fix] about
// parked reads: DROP/RESET answer EOF, release EIO, disconnect drops them.
#include <doctest/doctest.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "configured_stream_fixture.h"

using bentos::patterns::is_framework_ioctl;
using bentos::patterns::kPollIn;
using bentos::patterns::kPollOut;
using bentos::patterns::p4_state_name;
using namespace bentos::test::p4;

// ------------------------------------------------------ yielded records

TEST_CASE("P4 the first yielded record moves PROCESSING -> STREAMING") {
  Session s = in_processing();
  const P4Step y = s.yield(s.current_cycle(), "r");
  check_no_actions(y);
  CHECK_FALSE(y.reply.has_value());
  CHECK(s.state() == P4State::streaming);
  CHECK(s.queued_records() == 1);
}

TEST_CASE("P4 [fix] zero-length yielded records are never queued or delivered") {
  Session s = in_processing();
  check_parked(s.read(100, 1));
  const P4Step y = s.yield(s.current_cycle(), "");
  check_no_actions(y);
  CHECK(s.state() == P4State::processing);  // not a first record either
  CHECK(s.queued_records() == 0);
  CHECK(s.parked_reads() == 1);             // still waiting: no EOF-looking answer
  CHECK(s.yield(s.current_cycle(), "x").answers.size() == 1);
  (void)s.yield(s.current_cycle(), "");
  CHECK(s.queued_records() == 0);
  CHECK(s.poll() == 0u);
}

TEST_CASE("P4 [fix] parked reads are served first come, first served, one record each") {
  Session s = in_processing();
  check_parked(s.read(100, 11));
  check_parked(s.read(100, 22));
  const P4Step first = s.yield(s.current_cycle(), "a");
  REQUIRE(first.answers.size() == 1);
  CHECK(first.answers[0].token == 11);
  check_buf(first.answers[0].reply, "a");
  CHECK(s.parked_reads() == 1);
  const P4Step second = s.yield(s.current_cycle(), "b");
  REQUIRE(second.answers.size() == 1);
  CHECK(second.answers[0].token == 22);
  check_buf(second.answers[0].reply, "b");
  CHECK(s.queued_records() == 0);
}

TEST_CASE("P4 stream end with an empty queue -> COMPLETE, on_drain, parked reads answer EOF") {
  Session s = in_processing();
  check_parked(s.read(100, 1));
  check_parked(s.read(100, 2));
  const P4Step e = s.end(s.current_cycle(), 0);
  CHECK(e.drain);
  CHECK_FALSE(e.cancel);
  CHECK_FALSE(e.reply.has_value());
  REQUIRE(e.answers.size() == 2);
  CHECK(e.answers[0].token == 1);
  CHECK(e.answers[1].token == 2);
  for (const auto& a : e.answers) check_buf(a.reply, "");
  CHECK(s.state() == P4State::complete);
}

TEST_CASE("P4 stream end with an error and an empty queue: parked reads answer the errno") {
  Session s = in_streaming();
  check_buf(immediate(s.read(100, 1)), "rec");
  check_parked(s.read(100, 2));
  const P4Step e = s.end(s.current_cycle(), EPIPE);
  CHECK(e.drain);
  REQUIRE(e.answers.size() == 1);
  check_error(e.answers[0].reply, EPIPE);
  CHECK(s.state() == P4State::complete);
  CHECK(s.stored_error() == EPIPE);
}

TEST_CASE("P4 stream end with records queued -> DRAINING with on_drain") {
  Session s = in_streaming(false, {"a", "b"});
  const P4Step e = s.end(s.current_cycle(), 0);
  CHECK(e.drain);
  CHECK(e.answers.empty());
  CHECK(s.state() == P4State::draining);
  check_buf(immediate(s.read(100, 1)), "a");
  check_buf(immediate(s.read(100, 2)), "b");
  check_buf(immediate(s.read(100, 3)), "");
}

TEST_CASE("P4 a negative errno at the stream end is stored as its positive value") {
  Session s = in_complete(-ENOENT);
  CHECK(s.stored_error() == ENOENT);
  check_error(immediate(s.read(100, 1)), ENOENT);
}

TEST_CASE("P4 on_drain runs once per cycle: a second end is stale") {
  Session s = in_processing();
  const uint64_t cycle = s.current_cycle();
  CHECK(s.end(cycle, 0).drain);
  const P4Step again = s.end(cycle, EIO);
  CHECK(again.stale);
  CHECK_FALSE(again.drain);
  CHECK(s.stored_error() == 0);  // the stale end stored nothing
  // The next cycle gets its own on_drain.
  check_written(immediate(s.write("x")), 1);
  const P4Step st = s.flush();
  (void)s.process_started(st.cycle, 0);
  CHECK(s.end(st.cycle, 0).drain);
}

TEST_CASE("P4 a yield after the stream end is stale and queues nothing") {
  Session s = in_draining();
  const P4Step y = s.yield(s.current_cycle(), "late");
  CHECK(y.stale);
  CHECK(s.queued_records() == 1);
  CHECK(s.state() == P4State::draining);
}

TEST_CASE("P4 yields and ends for a cycle that never started are stale") {
  Session s = in_processing();
  const uint64_t cycle = s.current_cycle();
  for (const uint64_t other : {uint64_t{0}, cycle + 1, cycle - 1}) {
    CAPTURE(other);
    CHECK(s.yield(other, "x").stale);
    const P4Step e = s.end(other, 0);
    CHECK(e.stale);
    CHECK_FALSE(e.drain);
  }
  CHECK(s.state() == P4State::processing);
  CHECK(s.queued_records() == 0);
}

// ------------------------------------------------------------ routing

TEST_CASE("P4 is_framework_ioctl looks at the type byte (bits 15..8) only") {
  CHECK(is_framework_ioctl(0xBE00));
  CHECK(is_framework_ioctl(0xBE04));
  CHECK(is_framework_ioctl(0xBEFF));
  CHECK(is_framework_ioctl(0xC004BE00));  // _IOWR direction and size bits
  CHECK(is_framework_ioctl(0x4008BE02));
  CHECK(is_framework_ioctl(0xFFFFBE03));
  CHECK_FALSE(is_framework_ioctl(0xBF00));
  CHECK_FALSE(is_framework_ioctl(0x00BE));      // 0xBE in the nr byte
  CHECK_FALSE(is_framework_ioctl(0xBE000000));  // 0xBE in the ignored bits
  CHECK_FALSE(is_framework_ioctl(0x40045401));  // a config-style cmd, type 'T'
}

TEST_CASE("P4 a cmd with direction/size bits set still routes to its framework ioctl") {
  Session s = in_streaming();
  check_result(quiet_ioctl(s, 0xC004BE00), 3);  // GET_STATE
  check_result(quiet_ioctl(s, 0x8004BE01), 0);  // DRAIN
  const P4Step drop = s.framework_ioctl(0x4004BE02);
  check_result(reply_of(drop), 0);
  CHECK(drop.cancel);
  CHECK(s.state() == P4State::configured);
  const P4Step reset = s.framework_ioctl(0xC008BE03);
  CHECK(reset.reset_config);
  CHECK(s.state() == P4State::open);
  Session c = in_complete(EIO);
  check_result(quiet_ioctl(c, 0x8004BE04), EIO);  // GET_ERROR
}

TEST_CASE("P4 framework_ioctl with another type byte answers EINVAL and changes nothing") {
  Session s = in_streaming();
  check_error(quiet_ioctl(s, 0xBF02), EINVAL);
}

// ------------------------------------------------------------ GET_STATE

TEST_CASE("P4 GET_STATE answers the state number in every state") {
  for (Session& s : every_state()) {
    CAPTURE(p4_state_name(s.state()));
    check_result(quiet_ioctl(s, kGetState), static_cast<int32_t>(s.state()));
  }
  Session o = in_open();
  check_result(quiet_ioctl(o, kGetState), 0);
  Session c = in_configured();
  check_result(quiet_ioctl(c, kGetState), 1);
  Session p = in_processing();
  check_result(quiet_ioctl(p, kGetState), 2);
  Session st = in_streaming();
  check_result(quiet_ioctl(st, kGetState), 3);
  Session d = in_draining();
  check_result(quiet_ioctl(d, kGetState), 4);
  Session done = in_complete();
  check_result(quiet_ioctl(done, kGetState), 5);
}

// ---------------------------------------------------------------- DRAIN

TEST_CASE("P4 DRAIN answers result 0 in PROCESSING..COMPLETE and EINVAL before; on_drain is not its business") {
  for (Session& s : every_state()) {
    CAPTURE(p4_state_name(s.state()));
    const bool valid = s.state() != P4State::open && s.state() != P4State::configured;
    const Reply r = quiet_ioctl(s, kDrain);  // never drain=true: only the stream end runs on_drain
    if (valid) {
      check_result(r, 0);
    } else {
      check_error(r, EINVAL);
    }
  }
}

// ----------------------------------------------------------------- DROP

TEST_CASE("P4 DROP in OPEN, CONFIGURED and COMPLETE answers EINVAL and changes nothing") {
  Session o = in_open();
  check_error(quiet_ioctl(o, kDrop), EINVAL);
  Session c = in_configured();
  check_error(quiet_ioctl(c, kDrop), EINVAL);
  Session done = in_complete(EPIPE);
  check_error(quiet_ioctl(done, kDrop), EINVAL);
  CHECK(done.stored_error() == EPIPE);
}

TEST_CASE("P4 DROP in PROCESSING, STREAMING, DRAINING: cancel, clear, -> CONFIGURED, config kept") {
  std::vector<Session> sessions = {in_processing(), in_streaming(), in_draining(EIO)};
  for (Session& s : sessions) {
    CAPTURE(p4_state_name(s.state()));
    const P4Step step = s.framework_ioctl(kDrop);
    check_result(reply_of(step), 0);
    CHECK(step.cancel);               // on_cancel
    CHECK_FALSE(step.reset_config);   // the config is kept
    CHECK_FALSE(step.submit);
    CHECK_FALSE(step.drain);
    CHECK(s.state() == P4State::configured);
    CHECK(s.queued_records() == 0);
    CHECK(s.stored_error() == 0);
    CHECK(s.poll() == kPollOut);
    // The submitted records are not restored: the next cycle has none.
    const P4Step next = s.flush();
    CHECK(next.submit);
    CHECK(next.records.empty());
  }
}

TEST_CASE("P4 [fix] DROP answers parked reads with EOF, in order") {
  Session s = in_processing();
  (void)s.read(100, 1);
  (void)s.read(100, 2);
  REQUIRE(s.parked_reads() == 2);
  const P4Step step = s.framework_ioctl(kDrop);
  REQUIRE(step.answers.size() == 2);
  CHECK(step.answers[0].token == 1);
  CHECK(step.answers[1].token == 2);
  for (const auto& a : step.answers) check_buf(a.reply, "");
  CHECK(s.parked_reads() == 0);
}

TEST_CASE("P4 [fix] DROP in STREAMING answers a parked read EOF too") {
  Session s = in_streaming();
  check_buf(reply_of(s.read(100, 1)), "rec");
  (void)s.read(100, 2);
  const P4Step step = s.framework_ioctl(kDrop);
  REQUIRE(step.answers.size() == 1);
  check_buf(step.answers[0].reply, "");
}

// ---------------------------------------------------------------- RESET

TEST_CASE("P4 RESET in every state: -> OPEN, config reset, on_cancel where DROP would call it") {
  for (Session& s : every_state()) {
    const P4State before = s.state();
    CAPTURE(p4_state_name(before));
    const P4Step step = s.framework_ioctl(kReset);
    check_result(reply_of(step), 0);
    CHECK(step.reset_config);
    // §6: as DROP in PROCESSING, STREAMING and DRAINING (an ended stream
    // with records still queued is cancelled too).
    CHECK(step.cancel == (before == P4State::processing || before == P4State::streaming ||
                          before == P4State::draining));
    CHECK_FALSE(step.submit);
    CHECK_FALSE(step.drain);
    CHECK(s.state() == P4State::open);
    CHECK(s.queued_records() == 0);
    CHECK(s.stored_error() == 0);
    CHECK(s.poll() == kPollOut);
    CHECK(s.config_writable());
  }
}

TEST_CASE("P4 RESET clears the cycle's records") {
  Session s = in_open();
  (void)s.write("old");
  (void)s.framework_ioctl(kReset);
  CHECK(s.state() == P4State::open);
  check_error(reply_of(s.read(100, 1)), EAGAIN);  // OPEN again: nothing submitted
  (void)s.write("new");
  CHECK(s.flush().records == Records{"new"});
}

TEST_CASE("P4 RESET clears a stored error") {
  Session s = in_complete(ETIMEDOUT);
  (void)s.framework_ioctl(kReset);
  CHECK(s.stored_error() == 0);
  check_error(reply_of(s.read(100, 1)), EAGAIN);
}

TEST_CASE("P4 [fix] RESET answers parked reads with EOF") {
  Session s = in_processing();
  (void)s.read(100, 4);
  const P4Step step = s.framework_ioctl(kReset);
  REQUIRE(step.answers.size() == 1);
  CHECK(step.answers[0].token == 4);
  check_buf(step.answers[0].reply, "");
  CHECK(s.parked_reads() == 0);
}

// ------------------------------------------------------------ GET_ERROR

TEST_CASE("P4 GET_ERROR in COMPLETE answers the stored errno, or 0") {
  Session ok = in_complete();
  check_result(quiet_ioctl(ok, kGetError), 0);
  Session failed = in_complete(ENOENT);
  check_result(quiet_ioctl(failed, kGetError), ENOENT);
  check_result(quiet_ioctl(failed, kGetError), ENOENT);  // reading it does not clear it
}

TEST_CASE("P4 GET_ERROR outside COMPLETE answers EINVAL, even with an error stored in DRAINING") {
  for (Session& s : every_state()) {
    if (s.state() == P4State::complete) continue;
    CAPTURE(p4_state_name(s.state()));
    check_error(quiet_ioctl(s, kGetError), EINVAL);
  }
  Session d = in_draining(EPIPE);
  check_error(quiet_ioctl(d, kGetError), EINVAL);
}

// ------------------------------------------------------------- other nr

TEST_CASE("P4 any other nr of type 0xBE answers EINVAL in every state and changes nothing") {
  for (Session& s : every_state()) {
    CAPTURE(p4_state_name(s.state()));
    for (const uint32_t cmd : {0xBE05u, 0xBE10u, 0xBEFFu, 0xC004BE05u}) {
      CAPTURE(cmd);
      check_error(quiet_ioctl(s, cmd), EINVAL);
    }
  }
}

// ------------------------------------------- stale output after cancel

TEST_CASE("P4 yields and ends after DROP are stale: nothing queued, state kept, no on_drain") {
  Session s = in_streaming();
  const uint64_t old = s.current_cycle();
  (void)s.framework_ioctl(kDrop);
  const P4Step y = s.yield(old, "late");
  CHECK(y.stale);
  CHECK(y.answers.empty());
  const P4Step e = s.end(old, EIO);
  CHECK(e.stale);
  CHECK_FALSE(e.drain);
  CHECK(s.state() == P4State::configured);
  CHECK(s.queued_records() == 0);
  CHECK(s.stored_error() == 0);
  CHECK(s.poll() == kPollOut);
}

TEST_CASE("P4 yields after RESET are stale and the session stays OPEN") {
  Session s = in_processing();
  const uint64_t old = s.current_cycle();
  (void)s.framework_ioctl(kReset);
  CHECK(s.yield(old, "late").stale);
  CHECK(s.end(old, 0).stale);
  CHECK(s.state() == P4State::open);
  CHECK(s.queued_records() == 0);
}

TEST_CASE("P4 after DROP the old cycle stays stale while the new cycle streams") {
  Session s = in_streaming();
  const uint64_t old = s.current_cycle();
  (void)s.framework_ioctl(kDrop);
  (void)s.write("again");
  const P4Step st = s.flush();
  REQUIRE(st.cycle != old);
  (void)s.process_started(st.cycle, 0);
  CHECK(s.yield(old, "stale").stale);
  CHECK_FALSE(s.yield(st.cycle, "fresh").stale);
  CHECK(s.end(old, EIO).stale);
  check_buf(reply_of(s.read(100, 1)), "fresh");
  CHECK(s.state() == P4State::streaming);
}

TEST_CASE("P4 a flush whose cycle was dropped before process_started still gets its answer") {
  for (const int32_t rc : {0, -EINVAL}) {
    CAPTURE(rc);
    Session s = in_configured();
    const P4Step st = s.flush();
    (void)s.framework_ioctl(kDrop);
    const P4Step started = s.process_started(st.cycle, rc);
    CHECK(started.stale);
    REQUIRE(started.reply.has_value());
    if (rc == 0) {
      CHECK(started.reply->kind == ReplyKind::empty);
    } else {
      check_error(*started.reply, EINVAL);
    }
    CHECK(s.state() == P4State::configured);
  }
}

// ------------------------------------------------------ the stored error

TEST_CASE("P4 the stored error is sticky until a write, then the next cycle starts clean") {
  Session s = in_complete(EPIPE);
  for (int i = 0; i < 3; ++i) check_error(reply_of(s.read(100, 1)), EPIPE);
  CHECK(reply_of(s.flush()).kind == ReplyKind::empty);
  CHECK(s.poll() == kPollIn);
  check_result(quiet_ioctl(s, kGetError), EPIPE);
  (void)s.write("next");
  CHECK(s.stored_error() == 0);
  const P4Step st = s.flush();
  (void)s.process_started(st.cycle, 0);
  (void)s.end(st.cycle, 0);
  check_buf(reply_of(s.read(100, 1)), "");
  check_result(quiet_ioctl(s, kGetError), 0);
}

// ------------------------------------------------------- the session end

TEST_CASE("P4 [fix] release answers parked reads EIO and cancels the stream in flight") {
  Session s = in_processing();
  (void)s.read(100, 1);
  (void)s.read(100, 2);
  const uint64_t cycle = s.current_cycle();
  const P4Step step = s.end_session(true);
  CHECK(step.cancel);
  CHECK_FALSE(step.reply.has_value());
  REQUIRE(step.answers.size() == 2);
  CHECK(step.answers[0].token == 1);
  CHECK(step.answers[1].token == 2);
  for (const auto& a : step.answers) check_error(a.reply, EIO);
  CHECK(s.parked_reads() == 0);
  CHECK(s.yield(cycle, "late").stale);
  CHECK(s.end(cycle, 0).stale);
  CHECK_FALSE(s.end_session(true).cancel);  // nothing left to cancel
}

TEST_CASE("P4 [fix] disconnect drops parked reads unanswered and cancels the stream in flight") {
  Session s = in_streaming();
  check_buf(reply_of(s.read(100, 1)), "rec");
  (void)s.read(100, 2);
  const P4Step step = s.end_session(false);
  CHECK(step.cancel);
  CHECK(step.answers.empty());
  CHECK(s.parked_reads() == 0);
}

TEST_CASE("P4 ending a session with no stream in flight cancels nothing") {
  std::vector<Session> sessions = {in_open(), in_configured(), in_draining(), in_complete()};
  for (Session& s : sessions) {
    CAPTURE(p4_state_name(s.state()));
    for (const bool release : {true, false}) {
      Session copy = s;
      const P4Step step = copy.end_session(release);
      CHECK_FALSE(step.cancel);
      CHECK(step.answers.empty());
    }
  }
}

// --------------------------------------------------------- config gate

TEST_CASE("P4 a config may be stored only in OPEN or CONFIGURED; storing one leaves OPEN") {
  for (Session& s : every_state()) {
    CAPTURE(p4_state_name(s.state()));
    const bool writable = s.state() == P4State::open || s.state() == P4State::configured;
    CHECK(s.config_writable() == writable);
  }
  Session s = in_open();
  s.config_stored();
  CHECK(s.state() == P4State::configured);
  s.config_stored();
  CHECK(s.state() == P4State::configured);
}

TEST_CASE("P4 state names") {
  CHECK(std::string(p4_state_name(P4State::open)) == "OPEN");
  CHECK(std::string(p4_state_name(P4State::configured)) == "CONFIGURED");
  CHECK(std::string(p4_state_name(P4State::processing)) == "PROCESSING");
  CHECK(std::string(p4_state_name(P4State::streaming)) == "STREAMING");
  CHECK(std::string(p4_state_name(P4State::draining)) == "DRAINING");
  CHECK(std::string(p4_state_name(P4State::complete)) == "COMPLETE");
}
