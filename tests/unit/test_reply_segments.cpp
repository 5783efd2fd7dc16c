// Replies whose payload travels as owned pieces: ByteSegments (large pieces
// moved in, small ones gathered by copying), SegmentedOutput (inline bytes
// with segments spliced at their offsets, walked in order from any byte),
// and the reply encoder's segmented path, which must produce exactly the
// bytes of the plain one (itself pinned by the golden frames) while moving
// large payloads into the output instead of copying them.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "wire/codec.h"
#include "wire/segmented_output.h"

using bentos::wire::append_reply_frame;
using bentos::wire::ByteSegments;
using bentos::wire::kCopyBelow;
using bentos::wire::OwnedSegment;
using bentos::wire::Reply;
using bentos::wire::ReplyKind;
using bentos::wire::SegmentedOutput;

namespace {

std::string bytes_of(size_t len, unsigned salt) {
  std::string s(len, '\0');
  for (size_t i = 0; i < len; ++i) s[i] = static_cast<char>((i * 5 + salt * 97 + i / 300) & 0xff);
  return s;
}

// The pieces for_each_piece yields from `skip` on.
std::vector<std::string> pieces(const SegmentedOutput& out, size_t skip) {
  std::vector<std::string> got;
  out.for_each_piece(skip, [&](const char* p, size_t n) { got.emplace_back(p, n); });
  return got;
}

// A fixed pseudo-random sequence (no seed from outside).
struct Walk {
  uint64_t state = 99;
  uint64_t next(uint64_t bound) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % bound;
  }
};

}  // namespace

TEST_CASE("ByteSegments: large pieces are moved in, small ones gathered into one copy") {
  ByteSegments s;
  std::string big = bytes_of(kCopyBelow + 10, 1);
  const std::string big_copy = big;
  const char* big_buffer = big.data();
  s.append_copy("ab");
  s.append(std::string("cd"), 0, 2);  // small: gathered with "ab"
  s.append(std::move(big), 5, kCopyBelow);
  s.append_copy("ef");
  s.append_copy("");  // nothing
  REQUIRE(s.count() == 3);
  CHECK(s[0].view() == "abcd");
  CHECK(s[1].view().data() == big_buffer + 5);  // the same buffer: not copied
  CHECK(s[1].view() == big_copy.substr(5, kCopyBelow));
  CHECK(s[2].view() == "ef");
  CHECK(s.size() == 4 + kCopyBelow + 2);
  CHECK(s.flatten() == "abcd" + big_copy.substr(5, kCopyBelow) + "ef");

  // Copies and moves keep the bytes (a copy has its own).
  ByteSegments copy = s;
  ByteSegments moved = std::move(s);
  CHECK(copy.flatten() == moved.flatten());
  CHECK(moved[1].view().data() == big_buffer + 5);
  CHECK(copy[1].view().data() != big_buffer + 5);
}

TEST_CASE("SegmentedOutput: segments between inline bytes, walked in order from any byte") {
  SegmentedOutput out;
  CHECK(out.empty());
  out.bytes() += "AB";
  out.splice(OwnedSegment{"xxSEG1yy", 2, 4});
  out.splice(OwnedSegment{"SEG2", 0, 4});  // two in a row: no empty inline piece between
  out.bytes() += "CD";
  out.splice(OwnedSegment{"", 0, 0});  // nothing
  CHECK(out.size() == 12);
  CHECK(out.spliced_count() == 2);
  CHECK(out.flatten() == "ABSEG1SEG2CD");
  CHECK(pieces(out, 0) == std::vector<std::string>{"AB", "SEG1", "SEG2", "CD"});
  CHECK(pieces(out, 1) == std::vector<std::string>{"B", "SEG1", "SEG2", "CD"});
  CHECK(pieces(out, 2) == std::vector<std::string>{"SEG1", "SEG2", "CD"});
  CHECK(pieces(out, 5) == std::vector<std::string>{"1", "SEG2", "CD"});
  CHECK(pieces(out, 10) == std::vector<std::string>{"CD"});
  CHECK(pieces(out, 12).empty());

  SegmentedOutput other;
  other.bytes() = "Z";
  out.swap(other);
  CHECK(out.flatten() == "Z");
  CHECK(other.flatten() == "ABSEG1SEG2CD");
  other.clear();
  CHECK(other.empty());
  CHECK(other.spliced_count() == 0);
}

TEST_CASE("the segmented encoder writes the plain encoder's bytes, splicing large payloads instead of copying") {
  Walk w;
  for (int round = 0; round < 3000; ++round) {
    CAPTURE(round);
    Reply r;
    switch (w.next(6)) {
      case 0: r = Reply::error(static_cast<int32_t>(1 + w.next(200))); break;
      case 1: r = Reply::opened(); break;
      case 2: r = Reply::written(w.next(1u << 20)); break;
      case 3: r = Reply::polled(static_cast<uint32_t>(w.next(32))); break;
      case 4: r = Reply::ioctl_result(static_cast<int32_t>(w.next(3)) - 1); break;
      default: r = Reply::bytes({}); break;
    }
    r.id = w.next(4) == 0 ? 0 : w.next(UINT32_MAX) << w.next(32);
    r.fh = w.next(1000);
    // Payload: some in `data`, some in pieces of every size.
    const bool sizable = w.next(3) == 0;
    r.data = bytes_of(sizable ? w.next(3 * kCopyBelow) : w.next(50), static_cast<unsigned>(round));
    for (uint64_t n = w.next(4); n > 0; --n) {
      const size_t len = w.next(2) == 0 ? w.next(100) : w.next(3 * kCopyBelow);
      const size_t offset = w.next(20);
      r.segments.append(bytes_of(offset + len, static_cast<unsigned>(n)), offset, len);
    }

    std::string plain;
    append_reply_frame(r, plain);
    // The plain path is the reference: a reply with the same payload in
    // `data` alone must encode the same (and that is what the golden
    // frames pin down).
    Reply flat = r;
    flat.data = r.payload();
    flat.segments = ByteSegments{};
    std::string reference;
    append_reply_frame(flat, reference);
    REQUIRE(plain == reference);

    // Large pieces must arrive in the output in their own buffers.
    std::vector<const char*> buffers;
    const bool payload_kind = r.kind == ReplyKind::buf || r.kind == ReplyKind::ioctl;
    if (payload_kind && r.data.size() >= kCopyBelow) buffers.push_back(r.data.data());
    for (size_t i = 0; i < r.segments.count(); ++i) {
      if (payload_kind && r.segments[i].len >= kCopyBelow) buffers.push_back(r.segments[i].view().data());
    }
    SegmentedOutput out;
    out.bytes() = "prior";  // appends after what is there
    append_reply_frame(std::move(r), out);
    CHECK(out.flatten() == "prior" + plain);
    CHECK(out.spliced_count() == buffers.size());
    std::vector<const char*> seen;
    out.for_each_piece(0, [&](const char* p, size_t n) {
      if (n >= kCopyBelow) seen.push_back(p);
    });
    for (const char* b : buffers) CHECK(std::find(seen.begin(), seen.end(), b) != seen.end());
  }
}
