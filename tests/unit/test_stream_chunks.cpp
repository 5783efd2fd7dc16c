// P1 reads hand out the queued chunks themselves (StreamMachine::take):
// the bytes and their order exactly right across chunks, partially read
// chunks, parked reads and large pushes; and the pieces the reply carries
// (moved whole, split on the smaller side, small ones gathered), which is
// what lets the output reach the socket uncopied.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "patterns/stream.h"
#include "wire/ops.h"

using bentos::patterns::EmptyRead;
using bentos::patterns::StreamMachine;
using bentos::wire::kCopyBelow;
using bentos::wire::Reply;
using bentos::wire::ReplyKind;

namespace {

constexpr uint64_t kBig = 64u << 20;

// Bytes that differ along the chunk and from chunk to chunk, so a byte
// out of place or from the wrong chunk shows.
std::string chunk(size_t len, unsigned salt) {
  std::string s(len, '\0');
  for (size_t i = 0; i < len; ++i) s[i] = static_cast<char>((i * 7 + salt * 131 + i / 251) & 0xff);
  return s;
}

Reply read_now(StreamMachine& s, uint64_t size) {
  StreamMachine::ReadResult r = s.read(size, 0);
  REQUIRE_FALSE(r.parked);
  REQUIRE(r.reply.kind == ReplyKind::buf);
  return std::move(r.reply);
}

}  // namespace

TEST_CASE("P1 read of whole chunks: each leaves as its own piece, bytes in order") {
  StreamMachine s(EmptyRead::eof, false, kBig);
  const std::string a = chunk(10000, 1), b = chunk(20000, 2), c = chunk(30000, 3);
  for (const auto* x : {&a, &b, &c}) REQUIRE(s.push(*x).accepted);
  const Reply r = read_now(s, 60000);
  CHECK(r.data.empty());
  REQUIRE(r.segments.count() == 3);  // beyond the inline pieces too
  CHECK(r.segments[0].len == 10000);
  CHECK(r.segments[1].len == 20000);
  CHECK(r.segments[2].len == 30000);
  CHECK(r.segments[2].offset == 0);
  CHECK(r.payload() == a + b + c);
  CHECK(s.queued_bytes() == 0);
}

TEST_CASE("P1 partial chunk consumption: the smaller side is copied, the rest moves with its offset") {
  StreamMachine s(EmptyRead::eof, false, kBig);
  const std::string a = chunk(20000, 4), b = chunk(9000, 5);
  REQUIRE(s.push(a).accepted);
  REQUIRE(s.push(b).accepted);

  // A small read from the head: copied out, the chunk stays.
  Reply r = read_now(s, 1000);
  CHECK(r.payload() == a.substr(0, 1000));
  CHECK(r.segments.count() == 1);
  CHECK(s.queued_bytes() == 28000);

  // Most of what is left of the chunk: the rest (4000 bytes) is copied
  // into a new head, the chunk's buffer carries the 15000 read.
  r = read_now(s, 15000);
  REQUIRE(r.segments.count() == 1);
  CHECK(r.segments[0].offset == 1000);
  CHECK(r.segments[0].len == 15000);
  CHECK(r.payload() == a.substr(1000, 15000));

  // Less than half of a chunk, but large: copied, the chunk keeps its place.
  r = read_now(s, 4000 + 4100);
  CHECK(r.payload() == a.substr(16000) + b.substr(0, 4100));
  CHECK(s.queued_bytes() == 4900);

  // The rest of a chunk read before: moved out, offset and all.
  r = read_now(s, 100000);
  REQUIRE(r.segments.count() == 1);
  CHECK(r.segments[0].offset == 4100);
  CHECK(r.segments[0].len == 4900);
  CHECK(r.payload() == b.substr(4100));
  CHECK(s.queued_bytes() == 0);
  CHECK(read_now(s, 100).payload_size() == 0);  // eof
}

TEST_CASE("P1 small chunks are gathered into one piece between large ones") {
  StreamMachine s(EmptyRead::eof, false, kBig);
  std::string all;
  for (unsigned i = 0; i < 50; ++i) {
    const std::string c = chunk(10 + i, i);
    REQUIRE(s.push(c).accepted);
    all += c;
  }
  const std::string large = chunk(kCopyBelow, 77);
  REQUIRE(s.push(large).accepted);
  REQUIRE(s.push("tail").accepted);
  all += large + "tail";
  const Reply r = read_now(s, all.size());
  REQUIRE(r.segments.count() == 3);  // 50 gathered, 1 moved, 1 gathered
  CHECK(r.segments[1].len == kCopyBelow);
  CHECK(r.payload() == all);
}

TEST_CASE("P1 parked reads are served first come first served from a large push, the rest queued") {
  StreamMachine s(EmptyRead::block, false, kBig);
  CHECK(s.read(5000, 1).parked);
  CHECK(s.read(6000, 2).parked);
  const std::string big = chunk(15000, 9);
  const StreamMachine::PushResult p = s.push(big);
  REQUIRE(p.accepted);
  REQUIRE(p.answers.size() == 2);
  CHECK(p.answers[0].token == 1);
  CHECK(p.answers[0].reply.payload() == big.substr(0, 5000));
  CHECK(p.answers[1].token == 2);
  CHECK(p.answers[1].reply.payload() == big.substr(5000, 6000));
  CHECK(s.queued_bytes() == 4000);
  CHECK(read_now(s, 10000).payload() == big.substr(11000));
}

TEST_CASE("P1 every byte pushed comes out once, in order, with large chunks and reads of every size") {
  // A fixed pseudo-random walk (no clock, no seed from outside).
  uint64_t state = 12345;
  const auto next = [&state](uint64_t bound) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % bound;
  };
  StreamMachine s(EmptyRead::eof, false, 256 * 1024);
  std::string pushed, read;
  for (unsigned i = 0; i < 400; ++i) {
    const size_t len = next(4) == 0 ? next(40) : next(40000);
    const std::string c = chunk(len, i);
    if (s.push(c).accepted) pushed += c;
    const uint64_t size = next(3) == 0 ? next(100) : next(70000);
    const Reply r = read_now(s, size);
    CHECK(r.payload_size() <= size);
    read += r.payload();
  }
  for (size_t guard = 0; s.queued_bytes() > 0 && guard < 1000; ++guard) read += read_now(s, 65536).payload();
  CHECK(read.size() == pushed.size());
  CHECK(read == pushed);
}
