// The hand-written wire paths against the generated protobuf code:
// decode_request (fast path, falling back) must decide every input exactly
// as the generated parser does, on well-formed requests of every kind,
// merged messages (repeated fields), and random corruptions of them.
// (append_reply_frame is pinned byte for byte by test_wire_golden.cpp.)
#include <doctest/doctest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "wire/codec.h"
#include "wire/ops.h"

using namespace bentos::wire;

namespace {

bool same(const Request& a, const Request& b) {
  return a.id == b.id && a.fh == b.fh && a.kind == b.kind && a.flags == b.flags && a.size == b.size &&
         a.offset == b.offset && a.data == b.data && a.lock_owner == b.lock_owner && a.datasync == b.datasync &&
         a.cmd == b.cmd && a.ioctl_flags == b.ioctl_flags && a.out_bufsz == b.out_bufsz && a.events == b.events &&
         a.kh == b.kh && a.fuse_field == b.fuse_field;
}

// Both decoders on one payload; they must agree on success and on fields.
void check_agree(const std::string& payload) {
  const auto* p = reinterpret_cast<const uint8_t*>(payload.data());
  Request fast, reference;
  const bool ok_fast = decode_request(p, payload.size(), fast);
  const bool ok_reference = detail::decode_request_generated(p, payload.size(), reference);
  REQUIRE(ok_fast == ok_reference);
  if (ok_fast) CHECK(same(fast, reference));
}

uint64_t pick(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0: return 0;
    case 1: return rng() % 200;
    case 2: return ~uint64_t{0} - rng() % 3;  // negative when narrowed
    default: return rng();
  }
}

Request random_request(std::mt19937_64& rng) {
  Request r;
  r.id = pick(rng);
  r.fh = pick(rng);
  r.kind = static_cast<OpKind>(rng() % 10);
  r.flags = static_cast<int32_t>(pick(rng));
  r.size = pick(rng);
  r.offset = static_cast<int64_t>(pick(rng));
  r.data = std::string(rng() % 3 == 0 ? 0 : rng() % 300, static_cast<char>('a' + rng() % 26));
  r.lock_owner = pick(rng);
  r.datasync = rng() % 2 == 0;
  r.cmd = static_cast<uint32_t>(pick(rng));
  r.ioctl_flags = static_cast<uint32_t>(pick(rng));
  r.out_bufsz = pick(rng);
  r.events = static_cast<uint32_t>(pick(rng));
  r.kh = pick(rng);
  return r;
}

std::string payload_of(const Request& r) {
  std::string frame;
  append_request_frame(r, frame);
  return frame.substr(4);
}

}  // namespace

TEST_CASE("decode_request agrees with the generated parser on well-formed requests of every kind") {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) check_agree(payload_of(random_request(rng)));
  check_agree("");  // an all-default envelope
}

TEST_CASE("decode_request agrees on merged messages (fields and ops given twice)") {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 20000; ++i) check_agree(payload_of(random_request(rng)) + payload_of(random_request(rng)));
}

TEST_CASE("decode_request agrees on corrupted and truncated requests") {
  std::mt19937_64 rng(13);
  for (int i = 0; i < 50000; ++i) {
    std::string p = payload_of(random_request(rng));
    if (p.empty()) continue;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !p.empty(); ++e) {
      const size_t at = rng() % p.size();
      switch (rng() % 4) {
        case 0: p[at] = static_cast<char>(rng()); break;
        case 1: p[at] = static_cast<char>(p[at] ^ (1 << (rng() % 8))); break;
        case 2: p.resize(at); break;
        default: p.insert(at, 1, static_cast<char>(rng())); break;
      }
    }
    check_agree(p);
  }
}

TEST_CASE("write data is a view of the frame on the fast path; owned, and kept through moves and copies, on the fallback") {
  Request w;
  w.id = 5;
  w.fh = 2;
  w.kind = OpKind::write;
  w.data = std::string(300, 'x');
  const std::string fast = payload_of(w);
  Request got;
  REQUIRE(decode_request(reinterpret_cast<const uint8_t*>(fast.data()), fast.size(), got));
  CHECK(got.data == w.data);
  // The bytes were not copied: they are the frame's.
  CHECK(got.data.data() >= fast.data());
  CHECK(got.data.data() + got.data.size() <= fast.data() + fast.size());

  // An unknown envelope field (number 9, a varint) sends the frame to the
  // generated parser, whose objects are gone after the call: the bytes are
  // owned, so the frame may go, and moves and copies keep them.
  auto slow = std::make_unique<std::string>(fast + std::string("\x48\x01", 2));
  Request fallback;
  REQUIRE(decode_request(reinterpret_cast<const uint8_t*>(slow->data()), slow->size(), fallback));
  CHECK((fallback.data.data() < slow->data() || fallback.data.data() >= slow->data() + slow->size()));
  slow.reset();
  Request moved = std::move(fallback);
  CHECK(moved.data == std::string(300, 'x'));
  Request copy = moved;
  moved.data = "changed";
  CHECK(copy.data == std::string(300, 'x'));
  CHECK(copy.data.data() != moved.data.data());
  CHECK(moved.data == "changed");
}
