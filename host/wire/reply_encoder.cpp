// append_reply_frame without protobuf objects: every reply is a handful of
// scalars and at most one byte string, so the frame is sized, then written
// straight into the connection's output buffer, and nothing is zero-filled
// first. The generated encoder built a FuseMessage with heap submessages
// and copied the data into it first (docs/performance.md).
//
// Two ways out: into a plain string (clients, tests: the payload is
// copied), or into a connection's SegmentedOutput (the host): there only
// the frame's head (prefix and protobuf headers, at most ~60 bytes) and
// small payloads are copied; a payload piece of kCopyBelow bytes or more
// is spliced in, its buffer moved from the reply, and goes to the kernel
// from there.
//
// Either way the bytes are exactly what the generated code produces
// (tests/unit/test_wire_golden.cpp, test_reply_segments.cpp,
// fuzz/fuzz_wire.cpp).

#include "wire/codec.h"
#include "wire/proto_bytes.h"
#include "wire/segmented_output.h"

namespace bentos::wire {
namespace {

using proto::put_varint;
using proto::tag;
using proto::varint_size;

// FuseResponse field numbers (wire.md).
constexpr uint32_t kErr = 1, kOpen = 8, kBuf = 9, kWrite = 10, kIoctl = 11, kPoll = 12;

// Room for everything before the payload bytes: prefix 4, id and fh 11
// each, the response's tag and length 6, err 11, the member's tag and
// length 6, ioctl result 11 and the bytes field's tag and length 6.
constexpr size_t kMaxHead = 96;

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

bool has_payload(const Reply& r) { return r.kind == ReplyKind::buf || r.kind == ReplyKind::ioctl; }

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
    case ReplyKind::buf: return bytes_field_size(r.payload_size());
    case ReplyKind::write: return varint_field_size(r.count);
    case ReplyKind::ioctl: return varint_field_size(int32_varint(r.result)) + bytes_field_size(r.payload_size());
    case ReplyKind::poll: return varint_field_size(r.revents);
    default: return 0;
  }
}

// The member's fields up to its payload bytes, which are always its last field.
uint8_t* put_member_header(uint8_t* p, const Reply& r) {
  switch (r.kind) {
    case ReplyKind::buf: return put_bytes_header(p, 1, r.payload_size());
    case ReplyKind::write: return put_varint_field(p, 1, r.count);
    case ReplyKind::ioctl:
      return put_bytes_header(put_varint_field(p, 1, int32_varint(r.result)), 2, r.payload_size());
    case ReplyKind::poll: return put_varint_field(p, 1, r.revents);
    default: return p;
  }
}

// Writes the frame up to its payload bytes at `head` (kMaxHead bytes of
// room); returns how many bytes that is.
size_t put_frame_head(const Reply& reply, uint8_t* head) {
  const uint64_t err = reply.kind == ReplyKind::error ? int32_varint(reply.err) : 0;
  const uint32_t member = member_field(reply);
  const size_t member_len = member_size(reply);
  // FuseResponse: err, then the member (selected even when empty).
  const size_t response_len = varint_field_size(err) + (member ? 1 + varint_size(member_len) + member_len : 0);
  // FuseMessage: id, fh, then response (field 4), always present.
  const size_t body =
      varint_field_size(reply.id) + varint_field_size(reply.fh) + 1 + varint_size(response_len) + response_len;
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
  return static_cast<size_t>(p - head);
}

// One payload piece into `out`: spliced when large, copied when small.
void add_piece(std::string&& owner, size_t offset, size_t len, SegmentedOutput& out) {
  if (len < kCopyBelow) {
    out.bytes().append(owner, offset, len);
    return;
  }
  out.splice(OwnedSegment{std::move(owner), offset, len});
}

}  // namespace

void append_reply_frame(const Reply& reply, std::string& out) {
  uint8_t head[kMaxHead];
  const size_t head_len = put_frame_head(reply, head);
  const bool payload = has_payload(reply);
  out.reserve(out.size() + head_len + (payload ? reply.payload_size() : 0));
  out.append(reinterpret_cast<const char*>(head), head_len);
  if (!payload) return;
  out.append(reply.data);
  for (size_t i = 0; i < reply.segments.count(); ++i) out.append(reply.segments[i].view());
}

void append_reply_frame(Reply&& reply, SegmentedOutput& out) {
  uint8_t head[kMaxHead];
  const size_t head_len = put_frame_head(reply, head);
  std::string& bytes = out.bytes();
  const bool payload = has_payload(reply);
  const bool copy_data = payload && reply.data.size() < kCopyBelow;
  bytes.reserve(bytes.size() + head_len + (copy_data ? reply.data.size() : 0));
  bytes.append(reinterpret_cast<const char*>(head), head_len);
  if (!payload) return;
  const size_t data_len = reply.data.size();
  add_piece(std::move(reply.data), 0, data_len, out);
  for (size_t i = 0; i < reply.segments.count(); ++i) {
    OwnedSegment& piece = reply.segments[i];
    add_piece(std::move(piece.owner), piece.offset, piece.len, out);
  }
}

}  // namespace bentos::wire
