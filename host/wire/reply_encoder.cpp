// append_reply_frame without protobuf objects: every reply is a handful of
// scalars and at most one byte string, so the frame is sized, then written
// straight into the connection's output buffer; the reply's bytes are
// copied once, there, and nothing is zero-filled first. The generated encoder built a FuseMessage with heap
// submessages and copied the data into it first (docs/performance.md).
// The output is byte for byte what the generated code produces
// (tests/unit/test_wire_golden.cpp, fuzz/fuzz_wire.cpp).

#include "wire/codec.h"
#include "wire/proto_bytes.h"

namespace bentos::wire {
namespace {

using proto::put_varint;
using proto::tag;
using proto::varint_size;

// FuseResponse field numbers (wire.md).
constexpr uint32_t kErr = 1, kOpen = 8, kBuf = 9, kWrite = 10, kIoctl = 11, kPoll = 12;

// int32 fields are varints of the sign-extended value (10 bytes if negative).
uint64_t int32_varint(int32_t v) { return static_cast<uint64_t>(static_cast<int64_t>(v)); }

// A varint field as proto3 writes it: left out when zero.
size_t varint_field_size(uint64_t v) { return v == 0 ? 0 : 1 + varint_size(v); }
uint8_t* put_varint_field(uint8_t* p, uint32_t field, uint64_t v) {
  if (v == 0) return p;
  *p++ = static_cast<uint8_t>(tag(field, proto::kVarint));
  return put_varint(p, v);
}
size_t bytes_field_size(size_t len) { return len == 0 ? 0 : 1 + varint_size(len) + len; }
// A bytes field's tag and length; the caller appends the bytes themselves.
uint8_t* put_bytes_header(uint8_t* p, uint32_t field, size_t len) {
  if (len == 0) return p;
  *p++ = static_cast<uint8_t>(tag(field, proto::kLengthDelimited));
  return put_varint(p, len);
}

// The selected reply member's field number and the size of its message
// (0 when no member: error and empty replies).
uint32_t member_field(const Reply& r) {
  switch (r.kind) {
    case ReplyKind::open: return kOpen;
    case ReplyKind::buf: return kBuf;
    case ReplyKind::write: return kWrite;
    case ReplyKind::ioctl: return kIoctl;
    case ReplyKind::poll: return kPoll;
    case ReplyKind::error:
    case ReplyKind::empty: break;
  }
  return 0;
}

size_t member_size(const Reply& r) {
  switch (r.kind) {
    case ReplyKind::buf: return bytes_field_size(r.data.size());
    case ReplyKind::write: return varint_field_size(r.count);
    case ReplyKind::ioctl: return varint_field_size(int32_varint(r.result)) + bytes_field_size(r.data.size());
    case ReplyKind::poll: return varint_field_size(r.revents);
    default: return 0;
  }
}

// The member's fields up to its data bytes, which are always its last field.
uint8_t* put_member_header(uint8_t* p, const Reply& r) {
  switch (r.kind) {
    case ReplyKind::buf: return put_bytes_header(p, 1, r.data.size());
    case ReplyKind::write: return put_varint_field(p, 1, r.count);
    case ReplyKind::ioctl: return put_bytes_header(put_varint_field(p, 1, int32_varint(r.result)), 2, r.data.size());
    case ReplyKind::poll: return put_varint_field(p, 1, r.revents);
    default: return p;
  }
}

}  // namespace

void append_reply_frame(const Reply& reply, std::string& out) {
  const uint64_t err = reply.kind == ReplyKind::error ? int32_varint(reply.err) : 0;
  const uint32_t member = member_field(reply);
  const size_t member_len = member_size(reply);
  // FuseResponse: err, then the member (selected even when empty).
  const size_t response_len = varint_field_size(err) + (member ? 1 + varint_size(member_len) + member_len : 0);
  // FuseMessage: id, fh, then response (field 4), always present.
  const size_t body =
      varint_field_size(reply.id) + varint_field_size(reply.fh) + 1 + varint_size(response_len) + response_len;

  // Everything but the data bytes is at most ~60 bytes: built here, then
  // appended with the data, so the output buffer is never zero-filled first.
  uint8_t head[96];
  uint8_t* p = head;
  *p++ = static_cast<uint8_t>(body >> 24);
  *p++ = static_cast<uint8_t>(body >> 16);
  *p++ = static_cast<uint8_t>(body >> 8);
  *p++ = static_cast<uint8_t>(body);
  p = put_varint_field(p, 1, reply.id);
  p = put_varint_field(p, 2, reply.fh);
  *p++ = static_cast<uint8_t>(tag(4, proto::kLengthDelimited));
  p = put_varint(p, response_len);
  p = put_varint_field(p, kErr, err);
  if (member) {
    *p++ = static_cast<uint8_t>(tag(member, proto::kLengthDelimited));
    p = put_varint(p, member_len);
    p = put_member_header(p, reply);
  }
  const bool has_data = reply.kind == ReplyKind::buf || reply.kind == ReplyKind::ioctl;
  const size_t data_len = has_data ? reply.data.size() : 0;
  out.reserve(out.size() + 4 + body);
  out.append(reinterpret_cast<const char*>(head), static_cast<size_t>(p - head));
  out.append(reply.data.data(), data_len);
}

}  // namespace bentos::wire
