// Protobuf wire-format primitives for the host's hand-written hot paths
// (request_parser.cpp, reply_encoder.cpp): varints and tags, read from and
// written to plain byte buffers. Only the encoding rules, no schema.
//
// Header-only, stateless; any thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bentos::wire::proto {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

constexpr uint32_t tag(uint32_t field, WireType type) { return (field << 3) | type; }

inline size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Writes `v` at `p`; returns the byte after it.
inline uint8_t* put_varint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

// Reads a varint of at most `max_bytes` bytes. False (cursor unspecified)
// when it is truncated or longer, or when its last allowed byte carries
// bits beyond 64: cases the caller leaves to the full protobuf parser.
inline bool get_varint(const uint8_t*& p, const uint8_t* end, uint64_t& v, int max_bytes = 10) {
  v = 0;
  for (int i = 0; i < max_bytes; ++i) {
    if (p == end) return false;
    const uint8_t b = *p++;
    if (i == 9 && b > 1) return false;
    v |= uint64_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace bentos::wire::proto
