// P1 pure stream state machine (behavior.md §3), cell by cell, plus the
// read_when_empty modes and the [fix] backpressure bound. Pure: no sockets,
// no plugin; the test plays the session layer and the plugin's output side.
#include <doctest/doctest.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "patterns/parked_reads.h"
#include "patterns/pattern.h"
#include "patterns/stream.h"
#include "wire/ops.h"

using bentos::patterns::EmptyRead;
using bentos::patterns::kPollIn;
using bentos::patterns::kPollOut;
using bentos::patterns::ParkedAnswers;
using bentos::patterns::stream_fixed_reply;
using bentos::patterns::StreamMachine;
using bentos::wire::OpKind;
using bentos::wire::Reply;
using bentos::wire::ReplyKind;

namespace {

constexpr uint64_t kBig = 1u << 20;  // a bound no test reaches unless it means to

void check_error(const Reply& r, int32_t err) {
  CHECK(r.kind == ReplyKind::error);
  CHECK(r.err == err);
}

void check_buf(const Reply& r, const std::string& data) {
  CHECK(r.kind == ReplyKind::buf);
  CHECK(r.err == 0);
  CHECK(r.payload() == data);
}

// A read answered at once.
Reply now(const StreamMachine::ReadResult& r) {
  REQUIRE_FALSE(r.parked);
  return r.reply;
}

void check_accepted(const StreamMachine::PushResult& r) {
  CHECK(r.accepted);
  CHECK(r.answers.empty());
}

// The parked reads a push or end answered: tokens in order, then replies.
void check_answer(const ParkedAnswers& answers, size_t i, uint64_t token) {
  REQUIRE(answers.size() > i);
  CHECK(answers[i].token == token);
}

StreamMachine eof_session(uint64_t max = kBig) { return StreamMachine(EmptyRead::eof, false, max); }
StreamMachine block_session(uint64_t max = kBig) { return StreamMachine(EmptyRead::block, false, max); }

}  // namespace

// ----------------------------------------------------- ops fixed by the table

TEST_CASE("P1 flush and fsync answer success, ioctl ENOSYS") {
  for (OpKind op : {OpKind::flush, OpKind::fsync}) {
    const auto r = stream_fixed_reply(op);
    REQUIRE(r.has_value());
    CHECK(r->kind == ReplyKind::empty);
    CHECK(r->err == 0);
  }
  const auto ioctl = stream_fixed_reply(OpKind::ioctl);
  REQUIRE(ioctl.has_value());
  check_error(*ioctl, ENOSYS);
}

TEST_CASE("P1 open, write, read, release, poll are not fixed: they need the session or on_data") {
  for (OpKind op : {OpKind::open, OpKind::write, OpKind::read, OpKind::release, OpKind::poll}) {
    CAPTURE(bentos::wire::op_name(op));
    CHECK_FALSE(stream_fixed_reply(op).has_value());
  }
}

// ------------------------------------------------------------ open and poll

TEST_CASE("P1 a new session starts with an empty output queue and nothing parked") {
  StreamMachine s = eof_session();
  CHECK(s.queued_bytes() == 0);
  CHECK(s.parked_reads() == 0);
  CHECK_FALSE(s.take_writable_notice());
}

TEST_CASE("P1 poll is POLLOUT always, plus POLLIN while output is queued") {
  StreamMachine s = eof_session();
  CHECK(s.poll() == kPollOut);
  check_accepted(s.push("ab"));
  CHECK(s.poll() == (kPollOut | kPollIn));
  check_buf(now(s.read(1, 1)), "a");
  CHECK(s.poll() == (kPollOut | kPollIn));  // a partly read chunk is still output
  check_buf(now(s.read(1, 2)), "b");
  CHECK(s.poll() == kPollOut);
}

TEST_CASE("P1 poll keeps POLLOUT even when the output queue is full") {
  StreamMachine s = eof_session(4);
  check_accepted(s.push("1234"));
  CHECK_FALSE(s.push("5").accepted);
  CHECK(s.poll() == (kPollOut | kPollIn));
}

// ---------------------------------------------------------------- read row

TEST_CASE("P1 read coalesces queued chunks up to size") {
  StreamMachine s = eof_session();
  check_accepted(s.push("ab"));
  check_accepted(s.push("cd"));
  check_accepted(s.push("ef"));
  check_buf(now(s.read(6, 1)), "abcdef");
  CHECK(s.queued_bytes() == 0);
}

TEST_CASE("P1 read splits the last chunk and keeps its rest at the head") {
  StreamMachine s = eof_session();
  check_accepted(s.push("abc"));
  check_accepted(s.push("defgh"));
  check_accepted(s.push("ij"));
  check_buf(now(s.read(5, 1)), "abcde");
  CHECK(s.queued_bytes() == 5);
  // The rest of "defgh" comes first, then the next chunk.
  check_buf(now(s.read(2, 2)), "fg");
  check_buf(now(s.read(100, 3)), "hij");
  CHECK(s.queued_bytes() == 0);
}

TEST_CASE("P1 read smaller than the head chunk takes it piece by piece") {
  StreamMachine s = eof_session();
  check_accepted(s.push("abcdefg"));
  check_buf(now(s.read(3, 1)), "abc");
  check_buf(now(s.read(3, 2)), "def");
  check_buf(now(s.read(3, 3)), "g");
  check_buf(now(s.read(3, 4)), "");  // eof mode, empty again
}

TEST_CASE("P1 read keeps binary bytes, NULs included") {
  StreamMachine s = eof_session();
  const std::string bin("a\0b\xff", 4);
  check_accepted(s.push(bin));
  check_buf(now(s.read(100, 1)), bin);
}

TEST_CASE("P1 read of size 0 returns buf{} and consumes nothing") {
  StreamMachine s = block_session();
  check_accepted(s.push("xy"));
  check_buf(now(s.read(0, 1)), "");
  CHECK(s.queued_bytes() == 2);
  check_buf(now(s.read(10, 2)), "xy");
}

TEST_CASE("P1 read of size 0 on an empty queue in block mode answers buf{} and does not park") {
  StreamMachine s = block_session();
  check_buf(now(s.read(0, 1)), "");
  CHECK(s.parked_reads() == 0);
}

TEST_CASE("P1 eof mode (the default): an empty read returns buf{}") {
  StreamMachine s = eof_session();
  const StreamMachine::ReadResult r = s.read(100, 1);
  CHECK_FALSE(r.parked);
  CHECK(r.reply.kind == ReplyKind::buf);
  CHECK(r.reply.err == 0);
  CHECK(r.reply.payload_size() == 0);
  CHECK(s.parked_reads() == 0);
}

TEST_CASE("P1 eof mode answers buf{} even for an O_NONBLOCK session") {
  StreamMachine s(EmptyRead::eof, true, kBig);
  check_buf(now(s.read(100, 1)), "");
}

TEST_CASE("P1 block mode: an O_NONBLOCK session's empty read answers EAGAIN without parking") {
  StreamMachine s(EmptyRead::block, true, kBig);
  check_error(now(s.read(100, 1)), EAGAIN);
  CHECK(s.parked_reads() == 0);
  // Output then arrives normally.
  check_accepted(s.push("z"));
  check_buf(now(s.read(100, 2)), "z");
}

TEST_CASE("P1 block mode: an empty read parks, and a push answers it") {
  StreamMachine s = block_session();
  const StreamMachine::ReadResult r = s.read(100, 7);
  CHECK(r.parked);
  CHECK(s.parked_reads() == 1);
  const StreamMachine::PushResult p = s.push("hello");
  CHECK(p.accepted);
  REQUIRE(p.answers.size() == 1);
  check_answer(p.answers, 0, 7);
  check_buf(p.answers[0].reply, "hello");
  CHECK(s.parked_reads() == 0);
  CHECK(s.queued_bytes() == 0);  // served straight, nothing left queued
}

TEST_CASE("P1 block mode: parked reads are served first come, first served") {
  StreamMachine s = block_session();
  CHECK(s.read(10, 1).parked);
  CHECK(s.read(10, 2).parked);
  CHECK(s.read(10, 3).parked);
  const StreamMachine::PushResult a = s.push("first");
  REQUIRE(a.answers.size() == 1);
  check_answer(a.answers, 0, 1);
  check_buf(a.answers[0].reply, "first");
  const StreamMachine::PushResult b = s.push("second");
  REQUIRE(b.answers.size() == 1);
  check_answer(b.answers, 0, 2);
  check_buf(b.answers[0].reply, "second");
  CHECK(s.parked_reads() == 1);
}

TEST_CASE("P1 one push larger than the first parked read serves several, in order, leftover queued") {
  StreamMachine s = block_session();
  CHECK(s.read(3, 1).parked);
  CHECK(s.read(2, 2).parked);
  CHECK(s.read(4, 3).parked);
  const StreamMachine::PushResult p = s.push("abcdefghijk");
  CHECK(p.accepted);
  REQUIRE(p.answers.size() == 3);
  check_answer(p.answers, 0, 1);
  check_buf(p.answers[0].reply, "abc");
  check_answer(p.answers, 1, 2);
  check_buf(p.answers[1].reply, "de");
  check_answer(p.answers, 2, 3);
  check_buf(p.answers[2].reply, "fghi");
  CHECK(s.parked_reads() == 0);
  CHECK(s.queued_bytes() == 2);
  check_buf(now(s.read(100, 4)), "jk");
}

TEST_CASE("P1 a push that ends inside the parked reads leaves the later ones parked") {
  StreamMachine s = block_session();
  CHECK(s.read(3, 1).parked);
  CHECK(s.read(3, 2).parked);
  CHECK(s.read(3, 3).parked);
  const StreamMachine::PushResult p = s.push("abcd");
  REQUIRE(p.answers.size() == 2);
  check_buf(p.answers[0].reply, "abc");
  check_answer(p.answers, 1, 2);
  check_buf(p.answers[1].reply, "d");
  CHECK(s.parked_reads() == 1);
  CHECK(s.queued_bytes() == 0);
  // A new read queues behind the one still parked.
  CHECK(s.read(3, 4).parked);
  const StreamMachine::PushResult q = s.push("x");
  REQUIRE(q.answers.size() == 1);
  check_answer(q.answers, 0, 3);
}

TEST_CASE("P1 an empty push is accepted, ignored, and answers no parked read") {
  StreamMachine s = block_session();
  CHECK(s.read(10, 1).parked);
  check_accepted(s.push(""));
  CHECK(s.parked_reads() == 1);
  CHECK(s.queued_bytes() == 0);
  CHECK(s.poll() == kPollOut);
}

// ---------------------------------------------------------- release / end

TEST_CASE("P1 end answers every parked read EIO, in order") {
  StreamMachine s = block_session();
  CHECK(s.read(10, 4).parked);
  CHECK(s.read(10, 5).parked);
  const ParkedAnswers answers = s.end();
  REQUIRE(answers.size() == 2);
  check_answer(answers, 0, 4);
  check_error(answers[0].reply, EIO);
  check_answer(answers, 1, 5);
  check_error(answers[1].reply, EIO);
  CHECK(s.parked_reads() == 0);
}

TEST_CASE("P1 end with nothing parked answers nothing and drops queued output") {
  StreamMachine s = eof_session();
  check_accepted(s.push("left over"));
  CHECK(s.end().empty());
  CHECK(s.queued_bytes() == 0);
  CHECK(s.poll() == kPollOut);
}

TEST_CASE("P1 a push after end is accepted and discarded") {
  StreamMachine s = eof_session();
  CHECK(s.end().empty());
  check_accepted(s.push("late"));
  CHECK(s.queued_bytes() == 0);
}

// ------------------------------------------------------ [fix] backpressure

TEST_CASE("P1 [fix] a push that would grow the queue beyond the bound is refused, nothing queued") {
  StreamMachine s = eof_session(10);
  check_accepted(s.push("123456"));
  const StreamMachine::PushResult refused = s.push("abcde");  // 6 + 5 > 10
  CHECK_FALSE(refused.accepted);
  CHECK(refused.answers.empty());
  CHECK(s.queued_bytes() == 6);
  check_accepted(s.push("abcd"));  // 6 + 4 == 10: exactly the bound fits
  CHECK(s.queued_bytes() == 10);
  CHECK_FALSE(s.push("x").accepted);
  check_buf(now(s.read(100, 1)), "123456abcd");  // the refused bytes never got in
}

TEST_CASE("P1 [fix] an empty queue accepts a chunk larger than the bound") {
  StreamMachine s = eof_session(10);
  const std::string big(25, 'b');
  check_accepted(s.push(big));
  CHECK(s.queued_bytes() == 25);
  CHECK_FALSE(s.push("x").accepted);  // not empty any more
  check_buf(now(s.read(100, 1)), big);
  check_accepted(s.push("x"));
}

TEST_CASE("P1 [fix] the writable notice fires once after draining to half the bound, not before") {
  StreamMachine s = eof_session(10);
  check_accepted(s.push("0123456789"));
  CHECK_FALSE(s.push("more").accepted);
  CHECK_FALSE(s.take_writable_notice());  // nothing drained yet
  check_buf(now(s.read(4, 1)), "0123");   // 6 left: above half
  CHECK_FALSE(s.take_writable_notice());
  check_buf(now(s.read(1, 2)), "4");  // 5 left: half
  CHECK(s.take_writable_notice());
  CHECK_FALSE(s.take_writable_notice());  // once
  check_buf(now(s.read(100, 3)), "56789");
  CHECK_FALSE(s.take_writable_notice());  // no new refusal, no new notice
}

TEST_CASE("P1 [fix] no writable notice without a refused push") {
  StreamMachine s = eof_session(10);
  check_accepted(s.push("0123456789"));
  check_buf(now(s.read(100, 1)), "0123456789");
  CHECK_FALSE(s.take_writable_notice());
}

TEST_CASE("P1 [fix] a refusal with the queue already at half waits for a read before the notice") {
  StreamMachine s = eof_session(10);
  check_accepted(s.push("0123"));
  CHECK_FALSE(s.push("abcdefgh").accepted);  // 4 + 8 > 10, yet 4 <= 5
  CHECK_FALSE(s.take_writable_notice());
  check_buf(now(s.read(0, 1)), "");  // a zero-byte read drains nothing
  CHECK_FALSE(s.take_writable_notice());
  check_buf(now(s.read(1, 2)), "0");
  CHECK(s.take_writable_notice());
}

TEST_CASE("P1 [fix] each refusal after a notice earns a new notice") {
  StreamMachine s = eof_session(4);
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    check_accepted(s.push("abcd"));
    CHECK_FALSE(s.push("e").accepted);
    check_buf(now(s.read(4, 1)), "abcd");
    CHECK(s.take_writable_notice());
    CHECK_FALSE(s.take_writable_notice());
  }
}

TEST_CASE("P1 [fix] several refusals before a drain give one notice") {
  StreamMachine s = eof_session(4);
  check_accepted(s.push("abcd"));
  CHECK_FALSE(s.push("e").accepted);
  CHECK_FALSE(s.push("f").accepted);
  check_buf(now(s.read(4, 1)), "abcd");
  CHECK(s.take_writable_notice());
  CHECK_FALSE(s.take_writable_notice());
}

TEST_CASE("P1 [fix] parked reads are served even by a push larger than the bound") {
  StreamMachine s = block_session(4);
  CHECK(s.read(2, 1).parked);
  const StreamMachine::PushResult p = s.push("abcdefgh");
  CHECK(p.accepted);
  REQUIRE(p.answers.size() == 1);
  check_buf(p.answers[0].reply, "ab");
  CHECK(s.queued_bytes() == 6);  // the leftover went into the empty queue
  CHECK_FALSE(s.push("x").accepted);
}

TEST_CASE("P1 end clears a pending writable notice") {
  StreamMachine s = eof_session(4);
  check_accepted(s.push("abcd"));
  CHECK_FALSE(s.push("e").accepted);
  check_buf(now(s.read(4, 1)), "abcd");
  CHECK(s.end().empty());
  CHECK_FALSE(s.take_writable_notice());
}

// ----------------------------------------------------------- a long stream

TEST_CASE("P1 every byte pushed comes out once, in order, under any read size") {
  for (uint64_t size : {1u, 2u, 3u, 7u, 64u}) {
    CAPTURE(size);
    StreamMachine s = eof_session(16);
    std::string pushed;
    std::string read;
    for (int i = 0; i < 40; ++i) {
      const std::string chunk(static_cast<size_t>(i % 5 + 1), static_cast<char>('a' + i % 26));
      if (s.push(chunk).accepted) pushed += chunk;
      const Reply r = now(s.read(size, static_cast<uint64_t>(i)));
      CHECK(r.payload_size() <= size);
      read += r.payload();
    }
    // Bounded: a read that makes no progress must fail the test, not hang it.
    for (size_t guard = 0; s.queued_bytes() > 0 && guard <= pushed.size(); ++guard) {
      read += now(s.read(size, 0)).payload();
    }
    CHECK(read == pushed);
  }
}
