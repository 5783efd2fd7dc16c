// P2 write-then-read state machine (behavior.md §4), cell by cell, including
// every [fix] row: the EOF window after a response and the EFBIG bound.
// Pure: no sockets, no plugin; the test plays the session layer.
#include <doctest/doctest.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "patterns/completion.h"
#include "patterns/pattern.h"
#include "patterns/write_read.h"
#include "wire/ops.h"

using bentos::patterns::Completion;
using bentos::patterns::kPollIn;
using bentos::patterns::kPollOut;
using bentos::patterns::write_read_state_name;
using bentos::patterns::WriteReadMachine;
using bentos::patterns::WriteReadStep;
using bentos::wire::Reply;
using bentos::wire::ReplyKind;
using State = WriteReadMachine::State;

namespace {

constexpr uint64_t kMax = 64;  // max_request_bytes for most tests

void check_error(const Reply& r, int32_t err) {
  CHECK(r.kind == ReplyKind::error);
  CHECK(r.err == err);
}

void check_buf(const Reply& r, const std::string& data) {
  CHECK(r.kind == ReplyKind::buf);
  CHECK(r.err == 0);
  CHECK(r.data == data);
}

void check_written(const Reply& r, uint64_t count) {
  CHECK(r.kind == ReplyKind::write);
  CHECK(r.err == 0);
  CHECK(r.count == count);
}

void check_empty_success(const Reply& r) {
  CHECK(r.kind == ReplyKind::empty);
  CHECK(r.err == 0);
  CHECK(r.data.empty());
}

// A step answered at once (no submit).
Reply immediate(const WriteReadStep& step) {
  CHECK_FALSE(step.submit);
  CHECK(step.request.empty());
  REQUIRE(step.reply.has_value());
  return *step.reply;
}

// A step that submits: no reply now, the request handed over.
std::string submitted(const WriteReadStep& step) {
  CHECK(step.submit);
  CHECK_FALSE(step.reply.has_value());
  return step.request;
}

Completion ok_bytes(std::string data) { return Completion::bytes(std::move(data)); }

// Sessions in each state, reached through the public API only.
WriteReadMachine in_idle() { return WriteReadMachine(kMax); }

WriteReadMachine in_accumulating(const std::string& input = "req") {
  WriteReadMachine s(kMax);
  check_written(s.write(input), input.size());
  REQUIRE(s.state() == State::accumulating);
  return s;
}

WriteReadMachine in_processing(const std::string& input = "req") {
  WriteReadMachine s = in_accumulating(input);
  REQUIRE(submitted(s.flush()) == input);
  REQUIRE(s.state() == State::processing);
  return s;
}

WriteReadMachine in_response_ready(const std::string& response = "response") {
  WriteReadMachine s = in_processing();
  check_empty_success(s.complete(ok_bytes(response)));
  REQUIRE(s.state() == State::response_ready);
  return s;
}

// IDLE right after a response was read to its end: the EOF window is open.
WriteReadMachine in_eof_window() {
  WriteReadMachine s = in_response_ready("r");
  check_buf(*s.read(100).reply, "r");
  REQUIRE(s.state() == State::idle);
  REQUIRE(s.in_eof_window());
  return s;
}

}  // namespace

// ---------------------------------------------------------------- write row

TEST_CASE("P2 write in IDLE appends, moves to ACCUMULATING, count = len") {
  WriteReadMachine s = in_idle();
  check_written(s.write("hello"), 5);
  CHECK(s.state() == State::accumulating);
  CHECK(s.accumulated_bytes() == 5);
  CHECK(submitted(s.flush()) == "hello");
}

TEST_CASE("P2 write in ACCUMULATING appends, count = len") {
  WriteReadMachine s = in_accumulating("ab");
  check_written(s.write("cde"), 3);
  CHECK(s.state() == State::accumulating);
  CHECK(s.accumulated_bytes() == 5);
  CHECK(submitted(s.flush()) == "abcde");
}

TEST_CASE("P2 write in PROCESSING answers EBUSY") {
  WriteReadMachine s = in_processing("req");
  check_error(s.write("more"), EBUSY);
  CHECK(s.state() == State::processing);
  CHECK(s.accumulated_bytes() == 0);
  // The refused bytes are not part of the next cycle either.
  check_empty_success(s.complete(ok_bytes("x")));
  check_buf(*s.read(10).reply, "x");
  check_written(s.write("next"), 4);
  CHECK(submitted(s.flush()) == "next");
}

TEST_CASE("P2 write in RESPONSE_READY answers EBUSY and keeps the response") {
  WriteReadMachine s = in_response_ready("answer");
  check_error(s.write("more"), EBUSY);
  CHECK(s.state() == State::response_ready);
  CHECK(s.accumulated_bytes() == 0);
  check_buf(*s.read(100).reply, "answer");
}

TEST_CASE("P2 zero-length write in IDLE is accepted with count 0 and moves to ACCUMULATING") {
  WriteReadMachine s = in_idle();
  check_written(s.write(""), 0);
  CHECK(s.state() == State::accumulating);
  CHECK(s.accumulated_bytes() == 0);
  // ACCUMULATING: flush submits the (empty) request.
  CHECK(submitted(s.flush()).empty());
  CHECK(s.state() == State::processing);
}

TEST_CASE("P2 zero-length write in ACCUMULATING appends nothing, count 0") {
  WriteReadMachine s = in_accumulating("abc");
  check_written(s.write(""), 0);
  CHECK(s.state() == State::accumulating);
  CHECK(submitted(s.flush()) == "abc");
}

TEST_CASE("P2 zero-length write in PROCESSING and RESPONSE_READY answers EBUSY") {
  WriteReadMachine p = in_processing();
  check_error(p.write(""), EBUSY);
  CHECK(p.state() == State::processing);
  WriteReadMachine r = in_response_ready();
  check_error(r.write(""), EBUSY);
  CHECK(r.state() == State::response_ready);
}

// ---------------------------------------------------------------- flush row

TEST_CASE("P2 flush in IDLE answers success without submitting") {
  WriteReadMachine s = in_idle();
  check_empty_success(immediate(s.flush()));
  CHECK(s.state() == State::idle);
}

TEST_CASE("P2 flush in ACCUMULATING submits all writes of the cycle concatenated and clears them") {
  WriteReadMachine s = in_idle();
  check_written(s.write("one "), 4);
  check_written(s.write(""), 0);
  check_written(s.write("two "), 4);
  check_written(s.write(std::string("\0three", 6)), 6);
  const WriteReadStep step = s.flush();
  CHECK(submitted(step) == std::string("one two \0three", 14));
  CHECK(s.state() == State::processing);
  CHECK(s.accumulated_bytes() == 0);
}

TEST_CASE("P2 flush in PROCESSING answers success and does not submit again") {
  WriteReadMachine s = in_processing();
  check_empty_success(immediate(s.flush()));
  CHECK(s.state() == State::processing);
  // The first submit is still the one awaiting its answer.
  check_empty_success(s.complete(ok_bytes("done")));
  CHECK(s.state() == State::response_ready);
}

TEST_CASE("P2 flush in RESPONSE_READY answers success and keeps the response") {
  WriteReadMachine s = in_response_ready("kept");
  check_empty_success(immediate(s.flush()));
  CHECK(s.state() == State::response_ready);
  check_buf(*s.read(100).reply, "kept");
}

// ----------------------------------------------------------------- read row

TEST_CASE("P2 read in IDLE on a fresh session answers EAGAIN") {
  WriteReadMachine s = in_idle();
  CHECK_FALSE(s.in_eof_window());
  check_error(immediate(s.read(100)), EAGAIN);
  CHECK(s.state() == State::idle);
  // Still EAGAIN: there was never a response, so there is no EOF window.
  check_error(immediate(s.read(100)), EAGAIN);
}

TEST_CASE("P2 read in ACCUMULATING submits, then delivers in the same reply up to size") {
  WriteReadMachine s = in_idle();
  check_written(s.write("a="), 2);
  check_written(s.write("1"), 1);
  const WriteReadStep step = s.read(4);
  CHECK(submitted(step) == "a=1");
  CHECK(s.state() == State::processing);
  CHECK(s.accumulated_bytes() == 0);
  // The completion answers the triggering read itself, cut to its size.
  check_buf(s.complete(ok_bytes("OK, stored\n")), "OK, ");
  CHECK(s.state() == State::response_ready);
  check_buf(*s.read(100).reply, "stored\n");
  CHECK(s.state() == State::idle);
}

TEST_CASE("P2 read in ACCUMULATING with a response that fits delivers it whole and reaches IDLE") {
  WriteReadMachine s = in_accumulating("q");
  CHECK(submitted(s.read(100)) == "q");
  check_buf(s.complete(ok_bytes("whole")), "whole");
  CHECK(s.state() == State::idle);
  CHECK(s.in_eof_window());
}

TEST_CASE("P2 read in ACCUMULATING with size equal to the response length delivers it and reaches IDLE") {
  WriteReadMachine s = in_accumulating("q");
  CHECK(submitted(s.read(5)) == "q");
  check_buf(s.complete(ok_bytes("exact")), "exact");
  CHECK(s.state() == State::idle);
}

TEST_CASE("P2 read in PROCESSING answers EAGAIN") {
  WriteReadMachine s = in_processing();
  check_error(immediate(s.read(100)), EAGAIN);
  CHECK(s.state() == State::processing);
  // The EAGAIN read does not consume the answer that is still to come.
  check_empty_success(s.complete(ok_bytes("late")));
  check_buf(*s.read(100).reply, "late");
}

TEST_CASE("P2 read in RESPONSE_READY delivers min(remaining, size)") {
  WriteReadMachine s = in_response_ready("abcdef");
  check_buf(immediate(s.read(4)), "abcd");
  CHECK(s.state() == State::response_ready);
  check_buf(immediate(s.read(100)), "ef");  // only what remains
  CHECK(s.state() == State::idle);
}

TEST_CASE("P2 partial reads across several reads deliver the response in order, then EOF once, then EAGAIN") {
  WriteReadMachine s = in_response_ready("abcdefghij");
  const std::vector<std::string> expected = {"abc", "def", "ghi", "j"};
  for (size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(s.state() == State::response_ready);
    CHECK(s.poll() == kPollIn);
    check_error(s.write("x"), EBUSY);
    check_buf(immediate(s.read(3)), expected[i]);
  }
  CHECK(s.state() == State::idle);
  check_buf(immediate(s.read(3)), "");  // EOF window
  check_error(immediate(s.read(3)), EAGAIN);
}

TEST_CASE("P2 read with size 0 in RESPONSE_READY delivers nothing and keeps the response") {
  WriteReadMachine s = in_response_ready("abc");
  check_buf(immediate(s.read(0)), "");
  CHECK(s.state() == State::response_ready);
  check_buf(immediate(s.read(0)), "");
  CHECK(s.state() == State::response_ready);
  check_buf(immediate(s.read(3)), "abc");
  CHECK(s.state() == State::idle);
}

TEST_CASE("P2 read with size 0 in ACCUMULATING submits and delivers nothing, keeping the response") {
  WriteReadMachine s = in_accumulating("q");
  CHECK(submitted(s.read(0)) == "q");
  check_buf(s.complete(ok_bytes("resp")), "");
  CHECK(s.state() == State::response_ready);
  check_buf(immediate(s.read(10)), "resp");
}

TEST_CASE("P2 read with size 0 in IDLE and PROCESSING answers EAGAIN") {
  WriteReadMachine i = in_idle();
  check_error(immediate(i.read(0)), EAGAIN);
  WriteReadMachine p = in_processing();
  check_error(immediate(p.read(0)), EAGAIN);
}

// ----------------------------------------------------------------- poll row

TEST_CASE("P2 poll in IDLE answers POLLOUT") {
  CHECK(in_idle().poll() == kPollOut);
  CHECK(in_eof_window().poll() == kPollOut);
}

TEST_CASE("P2 poll in ACCUMULATING answers POLLOUT") { CHECK(in_accumulating().poll() == kPollOut); }

TEST_CASE("P2 poll in PROCESSING answers 0") { CHECK(in_processing().poll() == 0u); }

TEST_CASE("P2 poll in RESPONSE_READY answers POLLIN") {
  CHECK(in_response_ready().poll() == kPollIn);
  CHECK(in_response_ready("").poll() == kPollIn);  // an empty response is still ready to read
}

TEST_CASE("P2 poll changes no state") {
  WriteReadMachine s = in_response_ready("ab");
  CHECK(s.poll() == kPollIn);
  CHECK(s.poll() == kPollIn);
  CHECK(s.state() == State::response_ready);
  check_buf(immediate(s.read(10)), "ab");
}

// ----------------------------------------------------- completion (on_request)

TEST_CASE("P2 successful completion of a flush-triggered submit answers the flush and moves to RESPONSE_READY") {
  WriteReadMachine s = in_processing();
  const Reply r = s.complete(ok_bytes("resp"));
  check_empty_success(r);
  CHECK(s.state() == State::response_ready);
  CHECK(s.poll() == kPollIn);
}

TEST_CASE("P2 failed completion of a flush-triggered submit answers the flush with its errno and returns to IDLE") {
  WriteReadMachine s = in_processing("k");
  check_error(s.complete(Completion::error(ENOENT)), ENOENT);
  CHECK(s.state() == State::idle);
  CHECK(s.poll() == kPollOut);
  CHECK(s.accumulated_bytes() == 0);
  // No response: no EOF window, the next read is EAGAIN.
  CHECK_FALSE(s.in_eof_window());
  check_error(immediate(s.read(100)), EAGAIN);
  // The failed request is gone: the next cycle holds only new writes.
  check_written(s.write("new"), 3);
  CHECK(submitted(s.flush()) == "new");
}

TEST_CASE("P2 failed completion of a read-triggered submit answers the read with its errno and returns to IDLE") {
  WriteReadMachine s = in_accumulating("");
  CHECK(submitted(s.read(100)).empty());
  check_error(s.complete(Completion::error(EINVAL)), EINVAL);
  CHECK(s.state() == State::idle);
  check_error(immediate(s.read(100)), EAGAIN);
}

TEST_CASE("P2 failed completion after an earlier completed cycle does not reopen the EOF window") {
  WriteReadMachine s = in_eof_window();
  check_written(s.write("q"), 1);
  CHECK(submitted(s.read(10)) == "q");
  check_error(s.complete(Completion::error(ENOENT)), ENOENT);
  CHECK(s.state() == State::idle);
  CHECK_FALSE(s.in_eof_window());
  check_error(immediate(s.read(10)), EAGAIN);
}

TEST_CASE("P2 completion of a wrong kind answers EIO and returns to IDLE") {
  const std::vector<Completion::Kind> wrong = {Completion::Kind::count, Completion::Kind::ok,
                                               Completion::Kind::ioctl, Completion::Kind::poll};
  for (const Completion::Kind kind : wrong) {
    for (const bool read_trigger : {false, true}) {
      CAPTURE(static_cast<int>(kind));
      CAPTURE(read_trigger);
      WriteReadMachine s = in_accumulating("q");
      if (read_trigger) {
        CHECK(submitted(s.read(100)) == "q");
      } else {
        CHECK(submitted(s.flush()) == "q");
      }
      Completion c;
      c.kind = kind;
      c.data = "looks like a response";
      c.count = 3;
      c.revents = kPollIn;
      check_error(s.complete(c), EIO);
      CHECK(s.state() == State::idle);
      check_error(immediate(s.read(100)), EAGAIN);  // nothing was delivered, no response kept
    }
  }
}

TEST_CASE("P2 error completion with a non-positive errno answers EIO and returns to IDLE") {
  for (const int32_t err : {0, -2, -5}) {
    CAPTURE(err);
    WriteReadMachine s = in_processing();
    check_error(s.complete(Completion::error(err)), EIO);
    CHECK(s.state() == State::idle);
  }
}

TEST_CASE("P2 complete() without a submit answers EIO and changes nothing") {
  SUBCASE("in IDLE") {
    WriteReadMachine s = in_idle();
    check_error(s.complete(ok_bytes("stray")), EIO);
    CHECK(s.state() == State::idle);
    check_error(immediate(s.read(100)), EAGAIN);  // the stray bytes are not a response
  }
  SUBCASE("in ACCUMULATING") {
    WriteReadMachine s = in_accumulating("keep");
    check_error(s.complete(ok_bytes("stray")), EIO);
    CHECK(s.state() == State::accumulating);
    CHECK(submitted(s.flush()) == "keep");
  }
  SUBCASE("in RESPONSE_READY (a second completion)") {
    WriteReadMachine s = in_response_ready("first");
    check_error(s.complete(ok_bytes("second")), EIO);
    check_error(s.complete(Completion::error(ENOENT)), EIO);
    CHECK(s.state() == State::response_ready);
    check_buf(immediate(s.read(100)), "first");
  }
  SUBCASE("in the EOF window") {
    WriteReadMachine s = in_eof_window();
    check_error(s.complete(ok_bytes("stray")), EIO);
    CHECK(s.state() == State::idle);
    check_buf(immediate(s.read(100)), "");
  }
}

// ------------------------------------------------------------ empty response

TEST_CASE("P2 empty response after a flush is delivered as buf{} by the next read") {
  WriteReadMachine s = in_response_ready("");
  const Reply r = immediate(s.read(100));
  check_buf(r, "");
  CHECK(s.state() == State::idle);
}

TEST_CASE("P2 empty response to a read-triggered submit is delivered as buf{} in the same reply") {
  WriteReadMachine s = in_accumulating("q");
  CHECK(submitted(s.read(100)) == "q");
  check_buf(s.complete(ok_bytes("")), "");
  CHECK(s.state() == State::idle);
}

// ------------------------------------------------------- [fix] the EOF window

TEST_CASE("P2 [fix] after a response is read to its end the next read is EOF once, then EAGAIN") {
  WriteReadMachine s = in_response_ready("hello\n");
  check_buf(immediate(s.read(100)), "hello\n");
  CHECK(s.state() == State::idle);
  CHECK(s.in_eof_window());
  check_buf(immediate(s.read(100)), "");
  CHECK_FALSE(s.in_eof_window());
  check_error(immediate(s.read(100)), EAGAIN);
  check_error(immediate(s.read(100)), EAGAIN);
}

TEST_CASE("P2 [fix] the EOF window also follows a response delivered by a read-triggered submit") {
  WriteReadMachine s = in_accumulating("q");
  CHECK(submitted(s.read(100)) == "q");
  check_buf(s.complete(ok_bytes("answer")), "answer");
  check_buf(immediate(s.read(100)), "");
  check_error(immediate(s.read(100)), EAGAIN);
}

TEST_CASE("P2 [fix] the EOF window follows an empty response too (EOF, then EOF once more, then EAGAIN)") {
  WriteReadMachine s = in_response_ready("");
  check_buf(immediate(s.read(100)), "");  // the empty response itself
  check_buf(immediate(s.read(100)), "");  // the EOF window
  check_error(immediate(s.read(100)), EAGAIN);
}

TEST_CASE("P2 [fix] the EOF window is not open while a response is only partly read") {
  WriteReadMachine s = in_response_ready("abcd");
  check_buf(immediate(s.read(2)), "ab");
  CHECK_FALSE(s.in_eof_window());
  check_buf(immediate(s.read(2)), "cd");
  CHECK(s.in_eof_window());
}

TEST_CASE("P2 [fix] a write ends the EOF window") {
  WriteReadMachine s = in_eof_window();
  check_written(s.write("next"), 4);
  CHECK_FALSE(s.in_eof_window());
  // Observed through reads: fail the new cycle back to IDLE; the read is EAGAIN, not EOF.
  CHECK(submitted(s.flush()) == "next");
  check_error(s.complete(Completion::error(ENOENT)), ENOENT);
  check_error(immediate(s.read(100)), EAGAIN);
}

TEST_CASE("P2 [fix] a zero-length write ends the EOF window too") {
  WriteReadMachine s = in_eof_window();
  check_written(s.write(""), 0);
  CHECK_FALSE(s.in_eof_window());
  CHECK(s.state() == State::accumulating);
}

TEST_CASE("P2 [fix] a write in the EOF window starts a new cycle holding only the new bytes") {
  WriteReadMachine s = in_eof_window();
  check_written(s.write("k=v"), 3);
  CHECK(submitted(s.read(100)) == "k=v");
  check_buf(s.complete(ok_bytes("OK\n")), "OK\n");
  check_buf(immediate(s.read(100)), "");
  check_error(immediate(s.read(100)), EAGAIN);
}

TEST_CASE("P2 [fix] flush and poll in the EOF window leave it open (only a read or a write ends it)") {
  WriteReadMachine s = in_eof_window();
  check_empty_success(immediate(s.flush()));
  CHECK(s.poll() == kPollOut);
  CHECK(s.in_eof_window());
  check_buf(immediate(s.read(100)), "");
  check_error(immediate(s.read(100)), EAGAIN);
}

TEST_CASE("P2 [fix] a fresh session's first read is EAGAIN, not EOF") {
  WriteReadMachine s(kMax);
  CHECK(s.state() == State::idle);
  CHECK_FALSE(s.in_eof_window());
  check_error(immediate(s.read(4096)), EAGAIN);
}

// ------------------------------------------------------- [fix] EFBIG bound

TEST_CASE("P2 [fix] a single write of exactly max_request_bytes is accepted") {
  WriteReadMachine s(8);
  check_written(s.write("12345678"), 8);
  CHECK(s.accumulated_bytes() == 8);
  CHECK(submitted(s.flush()) == "12345678");
}

TEST_CASE("P2 [fix] writes reaching exactly max_request_bytes are accepted; one byte more is EFBIG and appends nothing") {
  WriteReadMachine s(8);
  check_written(s.write("12345"), 5);
  check_written(s.write("678"), 3);  // reaches the bound exactly
  CHECK(s.accumulated_bytes() == 8);
  check_error(s.write("9"), EFBIG);
  CHECK(s.accumulated_bytes() == 8);
  CHECK(s.state() == State::accumulating);
  check_written(s.write(""), 0);  // zero bytes never exceed the bound
  CHECK(submitted(s.flush()) == "12345678");
}

TEST_CASE("P2 [fix] a write crossing max_request_bytes in ACCUMULATING is EFBIG as a whole, not partly appended") {
  WriteReadMachine s(8);
  check_written(s.write("123456"), 6);
  check_error(s.write("789"), EFBIG);  // 6 + 3 = 9 > 8
  CHECK(s.accumulated_bytes() == 6);
  CHECK(s.state() == State::accumulating);
  check_written(s.write("78"), 2);  // 8: fits
  CHECK(submitted(s.flush()) == "12345678");
}

TEST_CASE("P2 [fix] a write of max_request_bytes + 1 in IDLE is EFBIG and the state stays IDLE") {
  WriteReadMachine s(8);
  check_error(s.write("123456789"), EFBIG);
  CHECK(s.state() == State::idle);
  CHECK(s.accumulated_bytes() == 0);
  CHECK(s.poll() == kPollOut);
  check_empty_success(immediate(s.flush()));  // IDLE flush: nothing to submit
  check_error(immediate(s.read(100)), EAGAIN);
}

TEST_CASE("P2 [fix] EFBIG in the EOF window changes nothing, the window included") {
  WriteReadMachine s(4);
  check_written(s.write("q"), 1);
  CHECK(submitted(s.flush()) == "q");
  check_empty_success(s.complete(ok_bytes("r")));
  check_buf(immediate(s.read(10)), "r");
  REQUIRE(s.in_eof_window());
  check_error(s.write("12345"), EFBIG);
  CHECK(s.state() == State::idle);
  CHECK(s.in_eof_window());
  check_buf(immediate(s.read(10)), "");
}

TEST_CASE("P2 [fix] the bound is per cycle: a submit frees the whole budget for the next cycle") {
  WriteReadMachine s(4);
  check_written(s.write("abcd"), 4);
  CHECK(submitted(s.read(10)) == "abcd");
  check_buf(s.complete(ok_bytes("r")), "r");
  check_written(s.write("efgh"), 4);
  check_error(s.write("i"), EFBIG);
  CHECK(submitted(s.flush()) == "efgh");
}

TEST_CASE("P2 [fix] a failed cycle also frees the budget") {
  WriteReadMachine s(4);
  check_written(s.write("abcd"), 4);
  CHECK(submitted(s.flush()) == "abcd");
  check_error(s.complete(Completion::error(EINVAL)), EINVAL);
  check_written(s.write("efgh"), 4);
  CHECK(submitted(s.flush()) == "efgh");
}

TEST_CASE("P2 [fix] max_request_bytes 0 refuses every non-empty write with EFBIG") {
  WriteReadMachine s(0);
  check_error(s.write("x"), EFBIG);
  CHECK(s.state() == State::idle);
  check_written(s.write(""), 0);
  CHECK(s.state() == State::accumulating);
}

TEST_CASE("P2 EBUSY takes precedence over EFBIG in PROCESSING and RESPONSE_READY") {
  WriteReadMachine p = in_processing();
  check_error(p.write(std::string(kMax + 1, 'x')), EBUSY);
  WriteReadMachine r = in_response_ready();
  check_error(r.write(std::string(kMax + 1, 'x')), EBUSY);
}

// ------------------------------------------------------------- full cycles

TEST_CASE("P2 several full cycles on one session: each request holds only its own writes") {
  WriteReadMachine s(kMax);
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    const std::string req = "req" + std::to_string(i);
    check_written(s.write(req.substr(0, 2)), 2);
    check_written(s.write(req.substr(2)), req.size() - 2);
    if (i % 2 == 0) {
      CHECK(submitted(s.flush()) == req);
      check_empty_success(s.complete(ok_bytes("resp" + std::to_string(i))));
      check_buf(immediate(s.read(100)), "resp" + std::to_string(i));
    } else {
      CHECK(submitted(s.read(100)) == req);
      check_buf(s.complete(ok_bytes("resp" + std::to_string(i))), "resp" + std::to_string(i));
    }
    CHECK(s.state() == State::idle);
  }
}

TEST_CASE("P2 state names") {
  CHECK(std::string(write_read_state_name(State::idle)) == "IDLE");
  CHECK(std::string(write_read_state_name(State::accumulating)) == "ACCUMULATING");
  CHECK(std::string(write_read_state_name(State::processing)) == "PROCESSING");
  CHECK(std::string(write_read_state_name(State::response_ready)) == "RESPONSE_READY");
}

TEST_CASE("P2 recycle: a submitted request's buffer serves the next cycle, and never leaks its old bytes") {
  WriteReadMachine s(1 << 20);
  check_written(s.write(std::string(1000, 'a')), 1000);
  WriteReadStep step = s.read(100);
  REQUIRE(step.submit);
  CHECK(step.request == std::string(1000, 'a'));
  s.recycle(std::move(step.request));
  check_buf(s.complete(Completion::bytes("r1")), "r1");
  // The next cycle sees only its own bytes.
  check_written(s.write("bc"), 2);
  CHECK(s.accumulated_bytes() == 2);
  step = s.read(100);
  REQUIRE(step.submit);
  CHECK(step.request == "bc");
  // Its buffer is the recycled one: its capacity came along.
  CHECK(step.request.capacity() >= 1000);
  // A buffer handed back while this cycle already has input changes nothing.
  check_buf(s.complete(Completion::bytes("r2")), "r2");
  check_written(s.write("xyz"), 3);
  s.recycle(std::string(5000, 'q'));
  CHECK(s.accumulated_bytes() == 3);
  step = s.read(100);
  CHECK(step.request == "xyz");
}
