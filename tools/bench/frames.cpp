// Hand-written protobuf for the handful of shapes bentos-bench sends and
// reads (fuse_wire.proto field numbers; see docs/wire.md).
// tests/unit/test_bench.cpp checks both directions against the host's codec.
#include "frames.h"

namespace bentos::bench {
namespace {

constexpr uint32_t kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;

size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_tag(std::string& out, uint32_t field, uint32_t wire_type) { put_varint(out, (field << 3) | wire_type); }

// Bytes of a varint field (tag + value), or 0 when proto3 omits it (zero).
size_t varint_field_size(uint64_t v) { return v == 0 ? 0 : 1 + varint_size(v); }

void put_varint_field(std::string& out, uint32_t field, uint64_t v) {
  if (v == 0) return;
  put_tag(out, field, kVarint);
  put_varint(out, v);
}

// Writes the frame header and the envelope up to the FuseRequest's op:
// FuseMessage{id=1, fh=2, request=3{<op_field>: {<op_size bytes follow>}}}.
void begin_request(std::string& out, uint64_t id, uint64_t fh, uint32_t op_field, size_t op_size) {
  const size_t request_size = 1 + varint_size(op_size) + op_size;
  const size_t body = varint_field_size(id) + varint_field_size(fh) + 1 + varint_size(request_size) + request_size;
  out.push_back(static_cast<char>(body >> 24));
  out.push_back(static_cast<char>(body >> 16));
  out.push_back(static_cast<char>(body >> 8));
  out.push_back(static_cast<char>(body));
  put_varint_field(out, 1, id);
  put_varint_field(out, 2, fh);
  put_tag(out, 3, kLengthDelimited);
  put_varint(out, request_size);
  put_tag(out, op_field, kLengthDelimited);
  put_varint(out, op_size);
}

// A cursor over protobuf bytes; every read fails (returns false) at the end.
struct Reader {
  const uint8_t* p;
  const uint8_t* end;

  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p == end) return false;
      const uint8_t b = *p++;
      v |= uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  // Skips the value of a field of `wire_type`; `len`/`start` get a
  // length-delimited field's extent.
  bool value(uint32_t wire_type, uint64_t& scalar, const uint8_t*& start, size_t& len) {
    switch (wire_type) {
      case kVarint: return varint(scalar);
      case kFixed64:
      case kFixed32: {
        const size_t n = wire_type == kFixed64 ? 8 : 4;
        if (static_cast<size_t>(end - p) < n) return false;
        p += n;
        return true;
      }
      case kLengthDelimited: {
        uint64_t n = 0;
        if (!varint(n) || n > static_cast<uint64_t>(end - p)) return false;
        start = p;
        len = static_cast<size_t>(n);
        p += n;
        return true;
      }
      default: return false;  // groups: never in this schema
    }
  }
};

// Calls fn(field, wire_type, scalar, start, len) for every field of a message.
template <class Fn>
bool for_each_field(const uint8_t* data, size_t len, Fn&& fn) {
  Reader r{data, data + len};
  while (r.p != r.end) {
    uint64_t tag = 0, scalar = 0;
    const uint8_t* start = nullptr;
    size_t n = 0;
    if (!r.varint(tag)) return false;
    const auto wire_type = static_cast<uint32_t>(tag & 7);
    if (!r.value(wire_type, scalar, start, n)) return false;
    if (!fn(static_cast<uint32_t>(tag >> 3), wire_type, scalar, start, n)) return false;
  }
  return true;
}

bool read_response(const uint8_t* data, size_t len, FrameView& out) {
  return for_each_field(data, len, [&](uint32_t field, uint32_t wt, uint64_t v, const uint8_t* start, size_t n) {
    if (field == 1 && wt == kVarint) {
      out.err = static_cast<int32_t>(v);
    } else if (field >= 8 && wt == kLengthDelimited) {
      out.member = field;
      out.data = nullptr;
      out.data_len = 0;
      out.count = 0;
      if (field == kReplyBuf || field == kReplyWrite) {
        return for_each_field(start, n, [&](uint32_t f, uint32_t w, uint64_t x, const uint8_t* s, size_t m) {
          if (f == 1 && field == kReplyBuf && w == kLengthDelimited) {
            out.data = s;
            out.data_len = m;
          } else if (f == 1 && field == kReplyWrite && w == kVarint) {
            out.count = x;
          }
          return true;
        });
      }
    }
    return true;
  });
}

}  // namespace

void append_open(std::string& out, uint64_t id, uint64_t fh, int32_t flags) {
  const auto f = static_cast<uint64_t>(static_cast<int64_t>(flags));  // int32: sign-extended
  begin_request(out, id, fh, 1, varint_field_size(f));
  put_varint_field(out, 1, f);
}

void append_write(std::string& out, uint64_t id, uint64_t fh, const char* data, size_t len) {
  const size_t data_field = len == 0 ? 0 : 1 + varint_size(len) + len;
  begin_request(out, id, fh, 3, data_field);
  if (len == 0) return;
  put_tag(out, 1, kLengthDelimited);
  put_varint(out, len);
  out.append(data, len);
}

void append_read(std::string& out, uint64_t id, uint64_t fh, uint64_t size) {
  begin_request(out, id, fh, 2, varint_field_size(size));
  put_varint_field(out, 1, size);
}

void append_release(std::string& out, uint64_t id, uint64_t fh) { begin_request(out, id, fh, 5, 0); }

bool read_frame(const uint8_t* payload, size_t len, FrameView& out) {
  out = FrameView{};
  return for_each_field(payload, len, [&](uint32_t field, uint32_t wt, uint64_t v, const uint8_t* start, size_t n) {
    if (field == 1 && wt == kVarint) out.id = v;
    if (field == 2 && wt == kVarint) out.fh = v;
    if (field == 4 && wt == kLengthDelimited) {
      out.response = true;
      return read_response(start, n, out);
    }
    return true;
  });
}

}  // namespace bentos::bench
