// net::Connection writing a SegmentedOutput: inline bytes and spliced
// segments leave in order, byte for byte, also when the socket takes them
// in pieces (a small send buffer and a slow reader: partial writes that end
// inside and at the edges of segments, then a libuv write request that
// keeps the rest alive); output queued meanwhile follows it; bytes_out is
// exact; and spliced bytes count toward the read pause (back-pressure).
#include <doctest/doctest.h>

#include <string>

#include "connection_fixture.h"
#include "wire/segmented_output.h"

using bentos::wire::OwnedSegment;
using bentos::net::Connection;
using connection_test::ConnectionFixture;
using connection_test::framed;
using connection_test::Peer;

namespace {

std::string pattern(size_t len, unsigned salt) {
  std::string s(len, '\0');
  for (size_t i = 0; i < len; ++i) s[i] = static_cast<char>((i * 13 + salt * 71 + i / 509) & 0xff);
  return s;
}

// Queues `count` pairs of a short inline header and a spliced segment (a
// window into a larger buffer, as a partly read chunk is); returns the
// bytes the peer must receive.
std::string queue_segments(Peer& p, unsigned count, unsigned salt) {
  std::string expected;
  for (unsigned i = 0; i < count; ++i) {
    const std::string header = "head-" + std::to_string(salt) + "-" + std::to_string(i);
    p.conn->output().bytes().append(header);
    std::string owner = pattern(40000 + 997 * i, salt + i);
    const size_t offset = 11 * i;
    const size_t len = owner.size() - offset - 3;
    expected += header + owner.substr(offset, len);
    p.conn->output().splice(OwnedSegment{std::move(owner), offset, len});
  }
  p.conn->output().bytes().append("end");
  p.conn->mark_dirty();
  return expected + "end";
}

}  // namespace

TEST_CASE("segments leave in order with their headers when the socket takes everything") {
  ConnectionFixture f;
  Peer& p = f.connect();
  const std::string expected = queue_segments(p, 3, 1);
  REQUIRE(f.run_until([&] { return p.received.size() >= expected.size(); }));
  CHECK(p.received == expected);
  CHECK(p.conn->bytes_out() == expected.size());
  CHECK(p.conn->output().empty());
  CHECK(p.handler.flushes_ns.size() == 1);
}

TEST_CASE("partial writes across segment boundaries: the rest follows, and so does output queued meanwhile") {
  ConnectionFixture f;
  Peer& p = f.connect(4096);  // the kernel takes a few KiB at a time
  p.read_per_turn = 1500;     // and the peer reads slowly
  const std::string first = queue_segments(p, 12, 2);
  f.flusher().flush_all();
  // The socket could not take it all: the rest waits in a write request.
  CHECK(p.conn->bytes_out() < first.size());
  CHECK(p.conn->output().empty());  // moved to the request in flight

  // More output while the write is in flight: it goes after, in its own
  // flush (with its own clock reading) once the first write is done.
  const std::string second = queue_segments(p, 5, 3);
  f.flusher().flush_all();  // nothing to do while a write is in flight
  CHECK(p.handler.flushes_ns.size() == 1);

  REQUIRE(f.run_until([&] { return p.received.size() >= first.size() + second.size(); }));
  CHECK(p.received.size() == first.size() + second.size());
  CHECK(p.received == first + second);
  CHECK(p.conn->bytes_out() == first.size() + second.size());
  CHECK(p.handler.flushes_ns.size() == 2);
  CHECK(p.handler.flushes_ns[1] >= p.handler.flushes_ns[0]);
}

TEST_CASE("spliced bytes count toward the read pause: a peer that does not read stops being read") {
  ConnectionFixture f;
  Peer& p = f.connect(4096);
  p.read_per_turn = 0;  // not reading at all
  std::string big = pattern(Connection::kPauseReadingAbove + 1, 4);
  const std::string expected = "h" + big;
  p.conn->output().bytes().append("h");
  p.conn->output().splice(OwnedSegment{std::move(big), 0, expected.size() - 1});
  p.conn->mark_dirty();
  f.flusher().flush_all();
  REQUIRE(p.conn->bytes_out() < expected.size());

  // A request from the peer is not read while the output stays above the bound.
  p.send(framed("ping"));
  for (int i = 0; i < 100; ++i) f.turn();
  CHECK(p.handler.frames.empty());

  // Once the peer catches up, reading resumes and the request arrives.
  p.read_per_turn = SIZE_MAX;
  REQUIRE(f.run_until([&] { return p.received.size() == expected.size() && p.handler.frames.size() == 1; }));
  CHECK(p.received == expected);
  CHECK(p.handler.frames[0] == "ping");
  CHECK(p.conn->bytes_out() == expected.size());
}

TEST_CASE("closing with a partial write in flight frees the segments it held") {
  ConnectionFixture f;
  Peer& p = f.connect(4096);
  p.read_per_turn = 0;
  const std::string expected = queue_segments(p, 8, 5);
  f.flusher().flush_all();
  REQUIRE(p.conn->bytes_out() < expected.size());
  p.conn->close();  // the write request is cancelled; LeakSanitizer checks the buffers went
  CHECK(p.handler.closed);
}
