// P4 configured stream state machine (behavior.md §6), part 1: the op
// table cell by cell (write, flush/fsync, read, poll in every state),
// delivery [fix], and the submit failing at once [fix]. Part 2
// (test_configured_stream_ioctl.cpp) has the stream's records and end, the
// framework ioctls, cancellation and the session's end. Pure: the test
// plays the session layer.
#include <doctest/doctest.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "configured_stream_fixture.h"

using bentos::patterns::kPollIn;
using bentos::patterns::kPollOut;
using bentos::patterns::p4_state_name;
using namespace bentos::test::p4;

// ---------------------------------------------------------------- write row

TEST_CASE("P4 write in OPEN is one record, moves to CONFIGURED, count = len") {
  Session s = in_open();
  check_written(immediate(s.write("abc")), 3);
  CHECK(s.state() == P4State::configured);
  CHECK(next_submit(s) == Records{"abc"});
}

TEST_CASE("P4 writes in CONFIGURED are records: boundaries kept, no merging, zero-length kept") {
  Session s = in_open();
  check_written(immediate(s.write("a")), 1);
  check_written(immediate(s.write("")), 0);
  check_written(immediate(s.write(std::string("b\0c", 3))), 3);
  CHECK(s.state() == P4State::configured);
  CHECK(next_submit(s) == Records{"a", "", std::string("b\0c", 3)});
}

TEST_CASE("P4 a zero-length write in OPEN is a record and moves to CONFIGURED") {
  Session s = in_open();
  check_written(immediate(s.write("")), 0);
  CHECK(s.state() == P4State::configured);
  CHECK(next_submit(s) == Records{""});
}

TEST_CASE("P4 write in PROCESSING, STREAMING and DRAINING answers EBUSY and appends nothing") {
  std::vector<Session> sessions = {in_processing(), in_streaming(), in_draining(), in_draining_empty()};
  for (Session& s : sessions) {
    const P4State before = s.state();
    CAPTURE(p4_state_name(before));
    check_error(immediate(s.write("more")), EBUSY);
    check_error(immediate(s.write("")), EBUSY);
    CHECK(s.state() == before);
    // The refused records are not part of the next cycle: end the stream,
    // read it out, start another.
    (void)s.end(s.current_cycle(), 0);
    for (int i = 0; i < 3 && s.state() != P4State::complete; ++i) (void)s.read(100, 9);
    REQUIRE(s.state() == P4State::complete);
    check_written(immediate(s.write("next")), 4);
    CHECK(next_submit(s) == Records{"next"});
  }
}

TEST_CASE("P4 write in STREAMING keeps the queued output") {
  Session s = in_streaming(false, {"out"});
  check_error(immediate(s.write("x")), EBUSY);
  check_buf(immediate(s.read(100, 1)), "out");
}

TEST_CASE("P4 write in COMPLETE clears the stored error, is a record, moves to CONFIGURED") {
  Session s = in_complete(EIO);
  REQUIRE(s.stored_error() == EIO);
  check_written(immediate(s.write("new")), 3);
  CHECK(s.state() == P4State::configured);
  CHECK(s.stored_error() == 0);
  CHECK(next_submit(s) == Records{"new"});
}

TEST_CASE("P4 write in COMPLETE after success moves to CONFIGURED; zero-length too") {
  Session s = in_complete();
  check_written(immediate(s.write("")), 0);
  CHECK(s.state() == P4State::configured);
  CHECK(s.poll() == kPollOut);
  CHECK(next_submit(s) == Records{""});
}

TEST_CASE("P4 [fix] records reaching exactly max_request_bytes are accepted; one byte more is EFBIG") {
  Session s(false, 8);
  check_written(immediate(s.write("12345")), 5);
  check_written(immediate(s.write("678")), 3);
  check_error(immediate(s.write("9")), EFBIG);
  check_written(immediate(s.write("")), 0);  // zero bytes never exceed the bound
  CHECK(next_submit(s) == Records{"12345", "678", ""});
}

TEST_CASE("P4 [fix] a write crossing the bound is refused whole, nothing appended") {
  Session s(false, 8);
  check_written(immediate(s.write("123456")), 6);
  check_error(immediate(s.write("789")), EFBIG);
  check_written(immediate(s.write("78")), 2);
  CHECK(next_submit(s) == Records{"123456", "78"});
}

TEST_CASE("P4 [fix] EFBIG in OPEN leaves the session OPEN") {
  Session s(false, 4);
  check_error(immediate(s.write("12345")), EFBIG);
  CHECK(s.state() == P4State::open);
  CHECK(s.poll() == kPollOut);
  check_error(immediate(s.read(100, 1)), EAGAIN);
  check_empty_success(immediate(s.flush()));
}

TEST_CASE("P4 [fix] EFBIG in COMPLETE changes nothing: state and stored error kept") {
  Session s(false, 4);
  check_written(immediate(s.write("a")), 1);
  const P4Step st = s.flush();
  (void)s.process_started(st.cycle, 0);
  (void)s.end(st.cycle, ENOENT);
  REQUIRE(s.state() == P4State::complete);
  check_error(immediate(s.write("12345")), EFBIG);
  CHECK(s.state() == P4State::complete);
  check_error(immediate(s.read(100, 1)), ENOENT);
}

TEST_CASE("P4 EBUSY takes precedence over EFBIG while a stream runs") {
  Session s = in_processing();
  check_error(immediate(s.write(std::string(kMax + 1, 'x'))), EBUSY);
}

TEST_CASE("P4 [fix] the bound is per cycle: a submit frees the whole budget") {
  Session s(false, 4);
  check_written(immediate(s.write("abcd")), 4);
  const P4Step st = s.flush();
  CHECK(submitted(st) == Records{"abcd"});
  (void)s.process_started(st.cycle, 0);
  (void)s.end(st.cycle, 0);
  check_written(immediate(s.write("efgh")), 4);
  check_error(immediate(s.write("i")), EFBIG);
}

TEST_CASE("P4 [fix] max_request_bytes 0 refuses every non-empty record") {
  Session s(false, 0);
  check_error(immediate(s.write("x")), EFBIG);
  check_written(immediate(s.write("")), 0);
  CHECK(next_submit(s) == Records{""});
}

// ----------------------------------------------------- flush and fsync row

TEST_CASE("P4 flush in OPEN answers success without submitting") {
  Session s = in_open();
  check_empty_success(immediate(s.flush()));
  CHECK(s.state() == P4State::open);
}

TEST_CASE("P4 flush in CONFIGURED submits the cycle's records; process_started answers it") {
  Session s = in_open();
  check_written(immediate(s.write("r1")), 2);
  check_written(immediate(s.write("r2")), 2);
  const P4Step st = s.flush();
  CHECK(submitted(st) == Records{"r1", "r2"});
  CHECK_FALSE(st.reply.has_value());  // answered by process_started
  CHECK(st.cycle == s.current_cycle());
  CHECK(s.state() == P4State::processing);
  const P4Step started = s.process_started(st.cycle, 0);
  REQUIRE(started.reply.has_value());
  check_empty_success(*started.reply);
  check_no_actions(started);
  CHECK(s.state() == P4State::processing);
}

TEST_CASE("P4 flush in CONFIGURED reached by a config ioctl submits no records") {
  Session s = in_open();
  s.config_stored();
  REQUIRE(s.state() == P4State::configured);
  CHECK(next_submit(s).empty());
}

TEST_CASE("P4 every submit starts a new cycle number") {
  Session s = in_open();
  uint64_t last = 0;
  for (int i = 0; i < 3; ++i) {
    check_written(immediate(s.write("x")), 1);
    const P4Step st = s.flush();
    CHECK(st.cycle > last);
    last = st.cycle;
    (void)s.process_started(st.cycle, 0);
    (void)s.end(st.cycle, 0);
  }
}

TEST_CASE("P4 flush in PROCESSING, STREAMING, DRAINING, COMPLETE answers success, no submit") {
  std::vector<Session> sessions = {in_processing(), in_streaming(), in_draining(), in_draining_empty(),
                                   in_complete(), in_complete(EIO)};
  for (Session& s : sessions) {
    const P4State before = s.state();
    CAPTURE(p4_state_name(before));
    check_empty_success(immediate(s.flush()));
    CHECK(s.state() == before);
  }
}

// ----------------------------------------------------------------- read row

TEST_CASE("P4 read in OPEN answers EAGAIN, blocking or not") {
  for (const bool nb : {false, true}) {
    Session s = in_open(nb);
    check_error(immediate(s.read(100, 1)), EAGAIN);
    CHECK(s.state() == P4State::open);
    CHECK(s.parked_reads() == 0);
  }
}

TEST_CASE("P4 read in CONFIGURED submits, then parks until a record arrives") {
  Session s = in_configured();
  const P4Step st = s.read(100, 7);
  CHECK(submitted(st) == Records{"cfg"});
  CHECK_FALSE(st.reply.has_value());
  CHECK(s.parked_reads() == 1);
  CHECK(s.state() == P4State::processing);
  const P4Step started = s.process_started(st.cycle, 0);
  CHECK_FALSE(started.reply.has_value());  // no flush to answer: the read waits
  CHECK(started.answers.empty());
  const P4Step y = s.yield(st.cycle, "out");
  REQUIRE(y.answers.size() == 1);
  CHECK(y.answers[0].token == 7);
  check_buf(y.answers[0].reply, "out");
  CHECK(s.state() == P4State::streaming);
  CHECK(s.parked_reads() == 0);
}

TEST_CASE("P4 non-blocking read in CONFIGURED submits, then answers EAGAIN once process() has started") {
  Session s = in_configured(true);
  const P4Step st = s.read(100, 7);
  CHECK(submitted(st) == Records{"cfg"});
  CHECK_FALSE(st.reply.has_value());  // waits for process() to return, never longer
  CHECK(s.state() == P4State::processing);
  const P4Step started = s.process_started(st.cycle, 0);
  CHECK_FALSE(started.reply.has_value());
  REQUIRE(started.answers.size() == 1);
  CHECK(started.answers[0].token == 7);
  check_error(started.answers[0].reply, EAGAIN);
  CHECK(s.parked_reads() == 0);
  CHECK(s.state() == P4State::processing);
}

TEST_CASE("P4 §1.7: a non-blocking read whose submit fails at once answers that errno, not EAGAIN") {
  Session s = in_configured(true);
  const P4Step st = s.read(100, 7);
  const P4Step started = s.process_started(st.cycle, -ENOSYS);
  REQUIRE(started.answers.size() == 1);
  CHECK(started.answers[0].token == 7);
  check_error(started.answers[0].reply, ENOSYS);
  CHECK(s.state() == P4State::configured);
}

TEST_CASE("P4 a non-blocking submitting read served by a record before process() returned gets the record") {
  Session s = in_configured(true);
  const P4Step st = s.read(100, 7);
  const P4Step y = s.yield(st.cycle, "early");
  REQUIRE(y.answers.size() == 1);
  check_buf(y.answers[0].reply, "early");
  CHECK(s.process_started(st.cycle, 0).answers.empty());  // nothing left to answer
  CHECK(s.state() == P4State::streaming);
}

TEST_CASE("P4 a non-blocking submitting read dropped before process() returned answers EOF once") {
  Session s = in_configured(true);
  const P4Step st = s.read(100, 7);
  const P4Step drop = s.framework_ioctl(0xBE02);
  REQUIRE(drop.answers.size() == 1);
  check_buf(drop.answers[0].reply, "");
  CHECK(s.process_started(st.cycle, 0).answers.empty());
}

TEST_CASE("P4 read in PROCESSING parks; non-blocking answers EAGAIN") {
  Session s = in_processing();
  check_parked(s.read(100, 1));
  CHECK(s.parked_reads() == 1);
  Session nb = in_processing(true);
  check_error(immediate(nb.read(100, 1)), EAGAIN);
  CHECK(nb.parked_reads() == 0);
  CHECK(nb.state() == P4State::processing);
}

TEST_CASE("P4 read in STREAMING delivers the head record") {
  Session s = in_streaming(false, {"one", "two"});
  check_buf(immediate(s.read(100, 1)), "one");
  CHECK(s.state() == P4State::streaming);
  check_buf(immediate(s.read(100, 2)), "two");
  CHECK(s.state() == P4State::streaming);
}

TEST_CASE("P4 read in STREAMING with an empty queue parks; non-blocking answers EAGAIN") {
  for (const bool nb : {false, true}) {
    CAPTURE(nb);
    Session s = in_streaming(nb, {"x"});
    check_buf(immediate(s.read(100, 1)), "x");
    const P4Step st = s.read(100, 2);
    if (nb) {
      check_error(immediate(st), EAGAIN);
      CHECK(s.parked_reads() == 0);
    } else {
      check_parked(st);
      CHECK(s.parked_reads() == 1);
    }
    CHECK(s.state() == P4State::streaming);
  }
}

TEST_CASE("P4 read in DRAINING delivers; the last record keeps DRAINING; the next read is EOF -> COMPLETE") {
  Session s = in_draining();
  check_buf(immediate(s.read(100, 1)), "rec");
  CHECK(s.state() == P4State::draining);
  check_buf(immediate(s.read(100, 2)), "");
  CHECK(s.state() == P4State::complete);
}

TEST_CASE("P4 read in DRAINING after a stream error: the read after the last record answers the errno") {
  Session s = in_draining(EPIPE);
  check_buf(immediate(s.read(100, 1)), "rec");  // records first, error after
  CHECK(s.state() == P4State::draining);
  check_error(immediate(s.read(100, 2)), EPIPE);
  CHECK(s.state() == P4State::complete);
}

TEST_CASE("P4 non-blocking read in an empty DRAINING answers EOF, not EAGAIN") {
  Session s(true, kMax);
  check_written(immediate(s.write("q")), 1);
  const P4Step st = s.flush();
  (void)s.process_started(st.cycle, 0);
  (void)s.yield(st.cycle, "r");
  (void)s.end(st.cycle, 0);
  check_buf(immediate(s.read(100, 1)), "r");
  check_buf(immediate(s.read(100, 2)), "");
  CHECK(s.state() == P4State::complete);
}

TEST_CASE("P4 read in COMPLETE answers EOF every time") {
  Session s = in_complete();
  for (int i = 0; i < 3; ++i) check_buf(immediate(s.read(100, 1)), "");
  CHECK(s.state() == P4State::complete);
}

TEST_CASE("P4 read in COMPLETE answers the stored errno every time (sticky), blocking or not") {
  for (const bool nb : {false, true}) {
    Session s = in_complete(ETIMEDOUT, nb);
    for (int i = 0; i < 3; ++i) check_error(immediate(s.read(100, 1)), ETIMEDOUT);
    CHECK(s.state() == P4State::complete);
  }
}

TEST_CASE("P4 [fix] one record per read: queued records are never merged") {
  Session s = in_streaming(false, {"ab", "cd", "e"});
  check_buf(immediate(s.read(100, 1)), "ab");
  check_buf(immediate(s.read(100, 2)), "cd");
  check_buf(immediate(s.read(100, 3)), "e");
}

TEST_CASE("P4 [fix] a record longer than size is split; the rest is the next read") {
  Session s = in_streaming(false, {"abcdefg", "next"});
  check_buf(immediate(s.read(3, 1)), "abc");
  CHECK(s.queued_records() == 2);
  CHECK(s.poll() == kPollIn);
  check_buf(immediate(s.read(3, 2)), "def");
  check_buf(immediate(s.read(3, 3)), "g");  // the rest only, not merged with "next"
  check_buf(immediate(s.read(3, 4)), "nex");
  check_buf(immediate(s.read(100, 5)), "t");
  CHECK(s.queued_records() == 0);
}

TEST_CASE("P4 [fix] a parked read smaller than the record gets its first bytes; the rest waits") {
  Session s = in_processing();
  check_parked(s.read(2, 1));
  const P4Step y = s.yield(s.current_cycle(), "hello");
  REQUIRE(y.answers.size() == 1);
  check_buf(y.answers[0].reply, "he");
  check_buf(immediate(s.read(100, 2)), "llo");
}

TEST_CASE("P4 a read of size 0 answers buf{} and consumes nothing") {
  Session s = in_streaming(false, {"abc"});
  check_buf(immediate(s.read(0, 1)), "");
  CHECK(s.queued_records() == 1);
  CHECK(s.state() == P4State::streaming);
  check_buf(immediate(s.read(100, 2)), "abc");
}

// ----------------------------------------------------------------- poll row

TEST_CASE("P4 poll in each state") {
  CHECK(in_open().poll() == kPollOut);
  CHECK(in_configured().poll() == kPollOut);
  CHECK(in_processing().poll() == 0u);
  CHECK(in_streaming().poll() == kPollIn);
  Session empty_streaming = in_streaming();
  check_buf(immediate(empty_streaming.read(100, 1)), "rec");
  CHECK(empty_streaming.poll() == 0u);
  CHECK(in_draining().poll() == kPollIn);
  CHECK(in_draining_empty().poll() == 0u);
}

TEST_CASE("P4 [fix] poll in COMPLETE answers POLLIN, after success or error") {
  CHECK(in_complete().poll() == kPollIn);
  CHECK(in_complete(EIO).poll() == kPollIn);
  Session s = in_draining_empty();
  (void)s.read(100, 1);
  REQUIRE(s.state() == P4State::complete);
  CHECK(s.poll() == kPollIn);
}

// ---------------------------------------------- the submit failing at once

TEST_CASE("P4 [fix] process failing at once answers the flush with its errno and returns to CONFIGURED") {
  Session s = in_open();
  check_written(immediate(s.write("bad")), 3);
  const P4Step st = s.flush();
  const P4Step started = s.process_started(st.cycle, -EINVAL);
  REQUIRE(started.reply.has_value());
  check_error(*started.reply, EINVAL);
  CHECK_FALSE(started.cancel);  // nothing runs that on_cancel could stop
  CHECK(s.state() == P4State::configured);
  CHECK(s.poll() == kPollOut);
  // Late output of the failed cycle is stale.
  CHECK(s.yield(st.cycle, "late").stale);
  CHECK(s.queued_records() == 0);
  // The records were consumed, not restored: the next cycle is new writes only.
  check_written(immediate(s.write("good")), 4);
  CHECK(next_submit(s) == Records{"good"});
}

TEST_CASE("P4 [fix] process failing at once answers the parked read with its errno") {
  Session s = in_configured();
  const P4Step st = s.read(100, 5);
  const P4Step started = s.process_started(st.cycle, -ENOSYS);
  CHECK_FALSE(started.reply.has_value());
  REQUIRE(started.answers.size() == 1);
  CHECK(started.answers[0].token == 5);
  check_error(started.answers[0].reply, ENOSYS);
  CHECK(s.state() == P4State::configured);
  CHECK(s.parked_reads() == 0);
}

TEST_CASE("P4 process_started for a cycle not awaiting it is stale and answers nothing") {
  Session s = in_processing();
  const P4Step again = s.process_started(s.current_cycle(), -EIO);
  CHECK(again.stale);
  CHECK_FALSE(again.reply.has_value());
  CHECK(s.state() == P4State::processing);
}

TEST_CASE("P4 queued_bytes follows yields, split reads and clears (for max_buffered_bytes)") {
  bentos::patterns::ConfiguredStreamMachine m(false, 1024);
  m.write("go");
  auto submit = m.flush();
  REQUIRE(submit.submit);
  m.process_started(submit.cycle, 0);
  CHECK(m.queued_bytes() == 0);
  m.yield(submit.cycle, "hello");
  m.yield(submit.cycle, "");  // never queued
  m.yield(submit.cycle, "abc");
  CHECK(m.queued_bytes() == 8);
  m.read(2, 1);  // "he", the rest stays at the head
  CHECK(m.queued_bytes() == 6);
  m.read(100, 2);  // "llo"
  CHECK(m.queued_bytes() == 3);
  m.framework_ioctl(0xBE02);  // DROP clears the queue
  CHECK(m.queued_bytes() == 0);
}
