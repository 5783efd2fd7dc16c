// P3 event stream state machine (behavior.md §5), cell by cell, plus every
// [fix] row: block by default, the split of an event longer than the read,
// and a read never longer than its size. Pure: no sockets, no plugin; the
// test plays the session layer and the plugin's emit().
#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "patterns/event_stream.h"
#include "patterns/parked_reads.h"
#include "patterns/pattern.h"
#include "wire/ops.h"

using bentos::patterns::Event;
using bentos::patterns::event_stream_fixed_reply;
using bentos::patterns::EventHub;
using bentos::patterns::kPollIn;
using bentos::patterns::kPollOut;
using bentos::patterns::ParkedAnswers;
using bentos::wire::OpKind;
using bentos::wire::Reply;
using bentos::wire::ReplyKind;

namespace {

constexpr bool kBlock = true;
constexpr bool kEof = false;
constexpr uint64_t kMaxEvents = 256;

Event ev(const std::string& text) { return std::make_shared<const std::string>(text); }

void check_error(const Reply& r, int32_t err) {
  CHECK(r.kind == ReplyKind::error);
  CHECK(r.err == err);
}

void check_buf(const Reply& r, const std::string& data) {
  CHECK(r.kind == ReplyKind::buf);
  CHECK(r.err == 0);
  CHECK(r.data == data);
}

// A read answered at once.
Reply now(const EventHub::ReadResult& r) {
  REQUIRE_FALSE(r.parked);
  return r.reply;
}

void check_answer(const ParkedAnswers& answers, size_t i, uint64_t token, const std::string& data) {
  REQUIRE(answers.size() > i);
  CHECK(answers[i].token == token);
  check_buf(answers[i].reply, data);
}

// A hub with the events "e1", "e2", ... queued for listener 1, numbered
// from sequence 1.
EventHub hub_with(const std::vector<std::string>& events, bool block = kBlock, uint64_t max = kMaxEvents) {
  EventHub hub(block, max);
  hub.add(1, false, 0);
  uint64_t seq = 0;
  for (const std::string& e : events) CHECK(hub.emit(ev(e), ++seq).empty());
  return hub;
}

}  // namespace

// ----------------------------------------------------- ops fixed by the table

TEST_CASE("P3 write answers EACCES, always") {
  const auto r = event_stream_fixed_reply(OpKind::write);
  REQUIRE(r.has_value());
  check_error(*r, EACCES);
}

TEST_CASE("P3 flush and fsync answer success, ioctl ENOSYS") {
  for (OpKind op : {OpKind::flush, OpKind::fsync}) {
    const auto r = event_stream_fixed_reply(op);
    REQUIRE(r.has_value());
    CHECK(r->kind == ReplyKind::empty);
    CHECK(r->err == 0);
  }
  const auto ioctl = event_stream_fixed_reply(OpKind::ioctl);
  REQUIRE(ioctl.has_value());
  check_error(*ioctl, ENOSYS);
}

TEST_CASE("P3 open, read, release, poll are not fixed: they need the listener") {
  for (OpKind op : {OpKind::open, OpKind::read, OpKind::release, OpKind::poll}) {
    CAPTURE(bentos::wire::op_name(op));
    CHECK_FALSE(event_stream_fixed_reply(op).has_value());
  }
}

// -------------------------------------------------------- open and release

TEST_CASE("P3 the first listener says activate, later ones do not") {
  EventHub hub(kBlock, kMaxEvents);
  CHECK_FALSE(hub.active());
  CHECK(hub.add(1, false, 0));
  CHECK(hub.active());
  CHECK_FALSE(hub.add(2, false, 0));
  CHECK_FALSE(hub.add(3, true, 0));
  CHECK(hub.listeners() == 3);
  CHECK(hub.queued(1) == 0);  // an empty queue
}

TEST_CASE("P3 the last listener removed says deactivate, earlier ones do not") {
  EventHub hub(kBlock, kMaxEvents);
  hub.add(1, false, 0);
  hub.add(2, false, 0);
  EventHub::RemoveResult a = hub.remove(2);
  CHECK(a.was_listener);
  CHECK_FALSE(a.last);
  CHECK(a.answers.empty());
  CHECK(hub.active());
  EventHub::RemoveResult b = hub.remove(1);
  CHECK(b.was_listener);
  CHECK(b.last);
  CHECK_FALSE(hub.active());
  // Activation starts over with the next listener.
  CHECK(hub.add(3, false, 0));
}

TEST_CASE("P3 a failed on_activate: removing the listener leaves the hub inactive") {
  EventHub hub(kBlock, kMaxEvents);
  REQUIRE(hub.add(1, false, 0));
  // The session layer removes the listener and answers EIO.
  EventHub::RemoveResult r = hub.remove(1);
  CHECK(r.was_listener);
  CHECK(r.last);
  CHECK(r.answers.empty());
  CHECK_FALSE(hub.active());
  CHECK(hub.emit(ev("x"), 1).empty());
  CHECK(hub.add(2, false, 1));  // the next open tries activation again
}

TEST_CASE("P3 removing an unknown listener is not a listener and not the last") {
  EventHub hub(kBlock, kMaxEvents);
  EventHub::RemoveResult r = hub.remove(9);
  CHECK_FALSE(r.was_listener);
  CHECK_FALSE(r.last);  // no deactivate without an activate
  hub.add(1, false, 0);
  CHECK_FALSE(hub.remove(9).last);
  CHECK(hub.active());
}

TEST_CASE("P3 adding an id already listening changes nothing") {
  EventHub hub = hub_with({"kept"});
  CHECK_FALSE(hub.add(1, true, 100));
  CHECK(hub.listeners() == 1);
  CHECK(hub.queued(1) == 1);
  check_buf(now(hub.read(1, 100, 1)), "kept");
}

TEST_CASE("P3 remove answers the listener's parked reads EIO, in order, and leaves others") {
  EventHub hub(kBlock, kMaxEvents);
  hub.add(1, false, 0);
  hub.add(2, false, 0);
  CHECK(hub.read(1, 10, 11).parked);
  CHECK(hub.read(1, 10, 12).parked);
  CHECK(hub.read(2, 10, 21).parked);
  EventHub::RemoveResult r = hub.remove(1);
  CHECK_FALSE(r.last);
  REQUIRE(r.answers.size() == 2);
  CHECK(r.answers[0].token == 11);
  check_error(r.answers[0].reply, EIO);
  CHECK(r.answers[1].token == 12);
  check_error(r.answers[1].reply, EIO);
  // Listener 2's read still waits and is served by the next event.
  const ParkedAnswers served = hub.emit(ev("tick"), 1);
  REQUIRE(served.size() == 1);
  check_answer(served, 0, 21, "tick");
}

TEST_CASE("P3 removing the last listener with a parked read answers it EIO and says last") {
  EventHub hub(kBlock, kMaxEvents);
  hub.add(1, false, 0);
  CHECK(hub.read(1, 10, 5).parked);
  EventHub::RemoveResult r = hub.remove(1);
  CHECK(r.last);
  REQUIRE(r.answers.size() == 1);
  check_error(r.answers[0].reply, EIO);
}

// ----------------------------------------------------------------- poll row

TEST_CASE("P3 poll is POLLIN only while events are queued, and never POLLOUT") {
  EventHub hub(kBlock, kMaxEvents);
  hub.add(1, false, 0);
  CHECK(hub.poll(1) == 0u);
  hub.emit(ev("abcdef"), 1);
  CHECK(hub.poll(1) == kPollIn);
  CHECK((hub.poll(1) & kPollOut) == 0u);
  check_buf(now(hub.read(1, 2, 1)), "ab");
  CHECK(hub.poll(1) == kPollIn);  // the rest of a split event is still queued
  check_buf(now(hub.read(1, 100, 2)), "cdef");
  CHECK(hub.poll(1) == 0u);
  CHECK(hub.poll(42) == 0u);  // unknown listener: nothing (the session layer answers EIO first)
}

// -------------------------------------------------------------------- emit

TEST_CASE("P3 emit with no listeners does nothing") {
  EventHub hub(kBlock, 2);
  CHECK(hub.emit(ev("lost"), 1).empty());
  CHECK(hub.dropped() == 0);
  CHECK_FALSE(hub.active());
  hub.add(1, false, 1);
  CHECK(hub.queued(1) == 0);
}

TEST_CASE("P3 broadcast: two listeners share the one event object, never a copy") {
  EventHub hub(kBlock, kMaxEvents);
  hub.add(1, false, 0);
  hub.add(2, false, 0);
  const Event e = ev("shared");
  hub.emit(e, 1);
  CHECK(e.use_count() == 3);  // ours plus one reference per listener queue
  CHECK(hub.queued(1) == 1);
  CHECK(hub.queued(2) == 1);
  check_buf(now(hub.read(1, 100, 1)), "shared");
  CHECK(e.use_count() == 2);  // listener 1 let go of it
  check_buf(now(hub.read(2, 100, 2)), "shared");
  CHECK(e.use_count() == 1);
}

TEST_CASE("P3 a listener opened after an event does not see it") {
  EventHub hub(kBlock, kMaxEvents);
  hub.add(1, false, 0);
  hub.emit(ev("old"), 1);
  hub.add(2, false, 1);  // opened after sequence 1
  hub.emit(ev("new"), 2);
  CHECK(hub.queued(2) == 1);
  check_buf(now(hub.read(2, 100, 1)), "new");
  check_buf(now(hub.read(1, 100, 2)), "oldnew");
}

TEST_CASE("P3 an event at or below a listener's sequence is not delivered, even into a parked read") {
  EventHub hub(kBlock, kMaxEvents);
  hub.add(1, false, 5);
  CHECK(hub.read(1, 100, 1).parked);
  CHECK(hub.emit(ev("five"), 5).empty());
  CHECK(hub.emit(ev("four"), 4).empty());
  const ParkedAnswers a = hub.emit(ev("six"), 6);
  REQUIRE(a.size() == 1);
  check_answer(a, 0, 1, "six");
}

TEST_CASE("P3 the queue holds max_events: the oldest is dropped and counted") {
  EventHub hub = hub_with({"1", "2", "3", "4", "5"}, kBlock, 3);
  CHECK(hub.queued(1) == 3);
  CHECK(hub.dropped() == 2);
  check_buf(now(hub.read(1, 100, 1)), "345");
}

TEST_CASE("P3 queue bounds are per listener; a drop counts once for each listener that lost it") {
  EventHub hub(kBlock, 2);
  hub.add(1, false, 0);
  hub.add(2, false, 0);
  hub.emit(ev("a"), 1);
  check_buf(now(hub.read(2, 100, 1)), "a");  // listener 2 keeps up
  hub.emit(ev("b"), 2);
  hub.emit(ev("c"), 3);
  CHECK(hub.dropped() == 1);  // only listener 1 overflowed
  check_buf(now(hub.read(1, 100, 2)), "bc");
  check_buf(now(hub.read(2, 100, 3)), "bc");
  hub.emit(ev("d"), 4);
  hub.emit(ev("e"), 5);
  hub.emit(ev("f"), 6);
  CHECK(hub.dropped() == 3);  // both lost "d"
}

TEST_CASE("P3 overflow never drops a partly read head event: the next oldest goes") {
  EventHub hub = hub_with({"abcdef", "x", "y"}, kBlock, 3);
  check_buf(now(hub.read(1, 2, 1)), "ab");
  hub.emit(ev("z"), 4);
  CHECK(hub.dropped() == 1);
  CHECK(hub.queued(1) == 3);
  check_buf(now(hub.read(1, 100, 2)), "cdefyz");  // "x" was the one dropped
}

TEST_CASE("P3 null and empty events are ignored (an empty read would look like EOF)") {
  EventHub hub(kBlock, kMaxEvents);
  hub.add(1, false, 0);
  CHECK(hub.read(1, 100, 1).parked);
  CHECK(hub.emit(ev(""), 1).empty());
  CHECK(hub.emit(nullptr, 2).empty());
  CHECK(hub.queued(1) == 0);
  CHECK(hub.dropped() == 0);
  const ParkedAnswers a = hub.emit(ev("real"), 3);
  REQUIRE(a.size() == 1);
  check_answer(a, 0, 1, "real");
}

// ----------------------------------------------------------------- read row

TEST_CASE("P3 a read delivers whole events, as many as fit in size") {
  EventHub hub = hub_with({"ab", "cd", "ef"});
  check_buf(now(hub.read(1, 5, 1)), "abcd");  // "ef" does not fit after them: it waits whole
  CHECK(hub.queued(1) == 1);
  check_buf(now(hub.read(1, 5, 2)), "ef");
}

TEST_CASE("P3 a read exactly the size of several events takes them all") {
  EventHub hub = hub_with({"tick 1\n", "tick 2\n", "tick 3\n"});
  check_buf(now(hub.read(1, 21, 1)), "tick 1\ntick 2\ntick 3\n");
  CHECK(hub.queued(1) == 0);
}

TEST_CASE("P3 an event too long for what is left waits whole behind the collected ones") {
  EventHub hub = hub_with({"ab", "cdefgh"});
  check_buf(now(hub.read(1, 4, 1)), "ab");
  check_buf(now(hub.read(1, 4, 2)), "cdef");  // nothing collected now: split
  check_buf(now(hub.read(1, 4, 3)), "gh");
}

TEST_CASE("P3 [fix] an event longer than size with nothing collected: its first size bytes") {
  EventHub hub = hub_with({"0123456789"});
  check_buf(now(hub.read(1, 4, 1)), "0123");
  CHECK(hub.queued(1) == 1);  // the rest stays at the head
}

TEST_CASE("P3 [fix] a split event continues on the next read, which may add whole events") {
  EventHub hub = hub_with({"0123456789", "ab", "cdefgh"});
  check_buf(now(hub.read(1, 4, 1)), "0123");
  check_buf(now(hub.read(1, 4, 2)), "4567");  // still longer than size: split again
  check_buf(now(hub.read(1, 6, 3)), "89ab");  // the rest, then "ab"; "cdefgh" does not fit
  check_buf(now(hub.read(1, 6, 4)), "cdefgh");
  CHECK(hub.queued(1) == 0);
}

TEST_CASE("P3 [fix] a read never returns more than size, and every byte arrives once in order") {
  const std::vector<std::string> events = {"a", "bcdefghij", "kl", "mnopqrstuvwxyz", "0", "123456"};
  std::string all;
  for (const std::string& e : events) all += e;
  for (uint64_t size = 1; size <= 16; ++size) {
    CAPTURE(size);
    EventHub hub = hub_with(events);
    std::string got;
    // Bounded: a read that makes no progress must fail the test, not hang it.
    for (size_t guard = 0; hub.queued(1) > 0 && guard <= all.size(); ++guard) {
      const Reply r = now(hub.read(1, size, 1));
      CHECK(r.data.size() <= size);
      REQUIRE_FALSE(r.data.empty());
      got += r.data;
    }
    CHECK(got == all);
  }
}

TEST_CASE("P3 a read of size 0 answers buf{}, consumes nothing, never parks") {
  EventHub hub(kBlock, kMaxEvents);
  hub.add(1, false, 0);
  check_buf(now(hub.read(1, 0, 1)), "");
  hub.emit(ev("x"), 1);
  check_buf(now(hub.read(1, 0, 2)), "");
  CHECK(hub.queued(1) == 1);
}

TEST_CASE("P3 read on an unknown listener answers EIO") {
  EventHub hub(kBlock, kMaxEvents);
  check_error(now(hub.read(7, 100, 1)), EIO);
  hub.add(1, false, 0);
  check_error(now(hub.read(7, 100, 2)), EIO);
  CHECK(hub.queued(7) == 0);
}

// ----------------------------------------------------- read_when_empty modes

TEST_CASE("P3 [fix] block (the default): an empty read parks and the next emit serves it") {
  EventHub hub(kBlock, kMaxEvents);
  hub.add(1, false, 0);
  const EventHub::ReadResult r = hub.read(1, 100, 9);
  CHECK(r.parked);
  CHECK(hub.poll(1) == 0u);
  const ParkedAnswers a = hub.emit(ev("tick 1\n"), 1);
  REQUIRE(a.size() == 1);
  check_answer(a, 0, 9, "tick 1\n");
  CHECK(hub.queued(1) == 0);  // served straight, not left queued too
}

TEST_CASE("P3 block: parked reads are served first come, first served, one event each") {
  EventHub hub(kBlock, kMaxEvents);
  hub.add(1, false, 0);
  CHECK(hub.read(1, 100, 1).parked);
  CHECK(hub.read(1, 100, 2).parked);
  const ParkedAnswers a = hub.emit(ev("one"), 1);
  REQUIRE(a.size() == 1);
  check_answer(a, 0, 1, "one");
  const ParkedAnswers b = hub.emit(ev("two"), 2);
  REQUIRE(b.size() == 1);
  check_answer(b, 0, 2, "two");
  CHECK(hub.poll(1) == 0u);
}

TEST_CASE("P3 [fix] an emit longer than the first parked read serves it what fits, the next gets the rest") {
  EventHub hub(kBlock, kMaxEvents);
  hub.add(1, false, 0);
  CHECK(hub.read(1, 4, 1).parked);
  CHECK(hub.read(1, 3, 2).parked);
  CHECK(hub.read(1, 100, 3).parked);
  const ParkedAnswers a = hub.emit(ev("abcdefghij"), 1);
  REQUIRE(a.size() == 3);
  check_answer(a, 0, 1, "abcd");
  check_answer(a, 1, 2, "efg");
  check_answer(a, 2, 3, "hij");
  CHECK(hub.queued(1) == 0);
}

TEST_CASE("P3 [fix] an emit beyond every parked read leaves its rest queued at the head") {
  EventHub hub(kBlock, kMaxEvents);
  hub.add(1, false, 0);
  CHECK(hub.read(1, 4, 1).parked);
  const ParkedAnswers a = hub.emit(ev("abcdefghij"), 1);
  REQUIRE(a.size() == 1);
  check_answer(a, 0, 1, "abcd");
  CHECK(hub.poll(1) == kPollIn);
  hub.emit(ev("k"), 2);
  check_buf(now(hub.read(1, 100, 2)), "efghijk");
}

TEST_CASE("P3 an emit serves parked reads on every listener that has them") {
  EventHub hub(kBlock, kMaxEvents);
  hub.add(1, false, 0);
  hub.add(2, false, 0);
  hub.add(3, false, 0);
  CHECK(hub.read(1, 100, 10).parked);
  CHECK(hub.read(2, 100, 20).parked);
  const ParkedAnswers a = hub.emit(ev("all"), 1);
  REQUIRE(a.size() == 2);
  std::vector<uint64_t> tokens = {a[0].token, a[1].token};
  CHECK(std::count(tokens.begin(), tokens.end(), 10u) == 1);
  CHECK(std::count(tokens.begin(), tokens.end(), 20u) == 1);
  for (const auto& ans : a) check_buf(ans.reply, "all");
  CHECK(hub.queued(3) == 1);  // no parked read: queued
}

TEST_CASE("P3 block: an O_NONBLOCK listener's empty read answers EAGAIN without parking") {
  EventHub hub(kBlock, kMaxEvents);
  hub.add(1, true, 0);
  check_error(now(hub.read(1, 100, 1)), EAGAIN);
  CHECK(hub.emit(ev("e"), 1).empty());  // nothing was parked
  check_buf(now(hub.read(1, 100, 2)), "e");
}

TEST_CASE("P3 eof mode (the SDK's): an empty read returns buf{}, blocking or not") {
  EventHub hub(kEof, kMaxEvents);
  hub.add(1, false, 0);
  hub.add(2, true, 0);
  for (uint64_t id : {1u, 2u}) {
    CAPTURE(id);
    const EventHub::ReadResult r = hub.read(id, 100, 1);
    CHECK_FALSE(r.parked);
    CHECK(r.reply.kind == ReplyKind::buf);
    CHECK(r.reply.err == 0);
    CHECK(r.reply.data.empty());
  }
  CHECK(hub.emit(ev("e"), 1).empty());
  check_buf(now(hub.read(1, 100, 2)), "e");
}
