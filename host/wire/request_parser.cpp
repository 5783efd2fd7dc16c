#include "wire/request_parser.h"

#include <initializer_list>

#include "wire/proto_bytes.h"

namespace bentos::wire {
namespace {

using proto::get_varint;

// One field of a message: its number, wire type, and value (a varint, or
// the extent of a length-delimited field).
struct Field {
  uint32_t number = 0;
  uint32_t type = 0;
  uint64_t value = 0;
  const uint8_t* bytes = nullptr;
  size_t len = 0;
};

// Reads the next field of [p, end). Only varint and length-delimited
// fields: the request schema has no other kind.
bool next_field(const uint8_t*& p, const uint8_t* end, Field& f) {
  uint64_t tag = 0;
  if (!get_varint(p, end, tag, 5) || tag > 0xffffffffu) return false;
  f.number = static_cast<uint32_t>(tag >> 3);
  f.type = static_cast<uint32_t>(tag & 7);
  if (f.number == 0) return false;
  if (f.type == proto::kVarint) return get_varint(p, end, f.value);
  if (f.type != proto::kLengthDelimited) return false;
  uint64_t n = 0;
  if (!get_varint(p, end, n, 5) || n > static_cast<uint64_t>(end - p)) return false;
  f.bytes = p;
  f.len = static_cast<size_t>(n);
  p += n;
  return true;
}

// Calls on(field) for each field of a message whose fields are numbered
// 1..max_field and may appear once each; `varint_fields` is a bit mask of
// which numbers are varints (the rest are length-delimited). False on any
// other shape, or when on() refuses.
template <class On>
bool for_fields(const uint8_t* p, size_t len, uint32_t max_field, uint32_t varint_fields, On&& on) {
  const uint8_t* end = p + len;
  uint32_t seen = 0;
  Field f;
  while (p != end) {
    if (!next_field(p, end, f) || f.number > max_field) return false;
    const uint32_t bit = 1u << f.number;
    const bool is_varint = (varint_fields & bit) != 0;
    if ((seen & bit) != 0 || is_varint != (f.type == proto::kVarint)) return false;
    seen |= bit;
    if (!on(f)) return false;
  }
  return true;
}

constexpr uint32_t bits(std::initializer_list<uint32_t> numbers) {
  uint32_t m = 0;
  for (uint32_t n : numbers) m |= 1u << n;
  return m;
}

int32_t as_int32(uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }

// A bytes field as a view of the frame (not copied: request_bytes.h).
std::string_view as_view(const Field& f) { return {reinterpret_cast<const char*>(f.bytes), f.len}; }

// The op message of field `op` (1..8 of FuseRequest) into `out`.
bool parse_op(uint32_t op, const uint8_t* p, size_t len, Request& out) {
  switch (op) {
    case 1:
      out.kind = OpKind::open;
      return for_fields(p, len, 1, bits({1}), [&](const Field& f) {
        out.flags = as_int32(f.value);
        return true;
      });
    case 2:
      out.kind = OpKind::read;
      return for_fields(p, len, 2, bits({1, 2}), [&](const Field& f) {
        if (f.number == 1) {
          out.size = f.value;
        } else {
          out.offset = static_cast<int64_t>(f.value);
        }
        return true;
      });
    case 3:
      out.kind = OpKind::write;
      return for_fields(p, len, 2, bits({2}), [&](const Field& f) {
        if (f.number == 1) {
          out.data = RequestBytes::view_of(as_view(f));
        } else {
          out.offset = static_cast<int64_t>(f.value);
        }
        return true;
      });
    case 4:
      out.kind = OpKind::flush;
      return for_fields(p, len, 1, bits({1}), [&](const Field& f) {
        out.lock_owner = f.value;
        return true;
      });
    case 5:
      out.kind = OpKind::release;
      return for_fields(p, len, 2, bits({1, 2}), [&](const Field& f) {
        if (f.number == 1) {
          out.flags = as_int32(f.value);
        } else {
          out.lock_owner = f.value;
        }
        return true;
      });
    case 6:
      out.kind = OpKind::fsync;
      return for_fields(p, len, 1, bits({1}), [&](const Field& f) {
        out.datasync = f.value != 0;
        return true;
      });
    case 7:
      out.kind = OpKind::ioctl;
      return for_fields(p, len, 4, bits({1, 2, 4}), [&](const Field& f) {
        switch (f.number) {
          case 1: out.cmd = static_cast<uint32_t>(f.value); break;
          case 2: out.ioctl_flags = static_cast<uint32_t>(f.value); break;
          case 3: out.data = RequestBytes::view_of(as_view(f)); break;
          default: out.out_bufsz = f.value; break;
        }
        return true;
      });
    case 8:
      out.kind = OpKind::poll;
      return for_fields(p, len, 2, bits({1, 2}), [&](const Field& f) {
        if (f.number == 1) {
          out.events = static_cast<uint32_t>(f.value);
        } else {
          out.kh = f.value;
        }
        return true;
      });
    default: return false;  // FUSE-only ops: the generated parser
  }
}

}  // namespace

bool parse_request_fast(const uint8_t* data, size_t len, Request& out) {
  out = Request{};
  // FuseMessage: id (1), fh (2), request (3). A response (4) or anything
  // else goes to the generated parser.
  return for_fields(data, len, 3, bits({1, 2}), [&](const Field& f) {
    switch (f.number) {
      case 1: out.id = f.value; return true;
      case 2: out.fh = f.value; return true;
      default:
        // FuseRequest: no op (kind no_op) or exactly one of open..poll.
        if (out.kind != OpKind::none) return false;  // a second request member: the generated parser's rules
        out.kind = OpKind::no_op;
        return for_fields(f.bytes, f.len, 8, 0, [&](const Field& op) {
          if (out.kind != OpKind::no_op) return false;  // a second op: the generated parser's rules
          return parse_op(op.number, op.bytes, op.len, out);
        });
    }
  });
}

}  // namespace bentos::wire
