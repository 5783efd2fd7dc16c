// net::Connection and net::WriteFlusher: one clock reading per read (every
// frame of the read shares it), one per flush (handed to every connection
// flushed, through Handler::on_flush, before its bytes are written), and
// a connection closed while listed for a flush is forgotten safely.
#include <doctest/doctest.h>

#include "connection_fixture.h"
#include "util/monotonic_clock.h"

using connection_test::ConnectionFixture;
using connection_test::framed;
using connection_test::Peer;

namespace {
// Queues `bytes` as output, as a Link does with a reply.
void queue_output(Peer& p, const std::string& bytes) {
  p.conn->output().bytes().append(bytes);
  p.conn->mark_dirty();
}
}  // namespace

TEST_CASE("frames of one read share its arrival time; the flush tells the handler when it writes") {
  ConnectionFixture f;
  Peer& p = f.connect();
  const uint64_t before = bentos::util::monotonic_ns();
  p.send(framed("ab") + framed("") + framed("cde"));
  REQUIRE(f.run_until([&] { return p.handler.frames.size() == 3; }));
  const uint64_t after = bentos::util::monotonic_ns();
  CHECK(p.handler.frames == std::vector<std::string>{"ab", "", "cde"});
  // Sent in one write and taken in one read (a socketpair keeps it whole).
  CHECK(p.handler.arrived_ns[0] == p.handler.arrived_ns[1]);
  CHECK(p.handler.arrived_ns[1] == p.handler.arrived_ns[2]);
  CHECK(p.handler.arrived_ns[0] >= before);
  CHECK(p.handler.arrived_ns[0] <= after);

  CHECK(p.handler.flushes_ns.empty());  // nothing to write yet
  queue_output(p, "reply-1");
  queue_output(p, "reply-2");  // the same batch: listed once
  REQUIRE(f.run_until([&] { return p.received.size() == 14; }));
  CHECK(p.received == "reply-1reply-2");
  REQUIRE(p.handler.flushes_ns.size() == 1);
  CHECK(p.handler.flushes_ns[0] >= p.handler.arrived_ns[0]);
  CHECK(p.conn->bytes_out() == 14);
}

TEST_CASE("one flush reading for every connection of a batch") {
  ConnectionFixture f;
  Peer& a = f.connect();
  Peer& b = f.connect();
  queue_output(a, "to a");
  queue_output(b, "to b");
  f.flusher().flush_all();
  REQUIRE(a.handler.flushes_ns.size() == 1);
  REQUIRE(b.handler.flushes_ns.size() == 1);
  CHECK(a.handler.flushes_ns[0] == b.handler.flushes_ns[0]);
  REQUIRE(f.run_until([&] { return a.received == "to a" && b.received == "to b"; }));
  // Listed again only when there is something new.
  f.flusher().flush_all();
  CHECK(a.handler.flushes_ns.size() == 1);
}

TEST_CASE("a connection closed while listed for a flush is forgotten; the others still flush") {
  ConnectionFixture f;
  Peer& a = f.connect();
  Peer& b = f.connect();
  Peer& c = f.connect();
  queue_output(a, "to a");
  queue_output(b, "to b");
  queue_output(c, "to c");
  b.conn->close();  // output dropped
  CHECK(b.handler.closed);
  REQUIRE(f.run_until([&] { return a.received == "to a" && c.received == "to c" && b.eof; }));
  CHECK(b.received.empty());
  CHECK(b.handler.flushes_ns.empty());
  CHECK(a.handler.flushes_ns.size() == 1);
  CHECK(c.handler.flushes_ns.size() == 1);
}
