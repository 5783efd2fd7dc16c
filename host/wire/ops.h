// Plain request and reply structs: what a FuseMessage means, without
// protobuf. Every layer above wire/ speaks these; only wire/codec.cpp
// converts them to and from the generated protobuf classes.
//
// Value types; no thread affinity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "wire/byte_segments.h"
#include "wire/request_bytes.h"

namespace bentos::wire {

enum class OpKind : uint8_t {
  none,       // envelope without a request member (answered EINVAL)
  no_op,      // a request member with no operation set (answered ENOSYS)
  fuse_only,  // FUSE-only op, fields 16..45 (answered ENOSYS)
  open,
  read,
  write,
  flush,
  release,
  fsync,
  ioctl,
  poll,
};

const char* op_name(OpKind kind);

// One request. Only the fields of `kind` are meaningful; the rest stay zero.
// Decoded by the host, `data` is a view of the frame: valid only during the
// on_frame call that delivered it (request_bytes.h).
struct Request {
  uint64_t id = 0;
  uint64_t fh = 0;
  OpKind kind = OpKind::none;
  int32_t flags = 0;        // open, release
  uint64_t size = 0;        // read
  int64_t offset = 0;       // read, write
  RequestBytes data;        // write data, ioctl in_buf
  uint64_t lock_owner = 0;  // flush, release
  bool datasync = false;    // fsync
  uint32_t cmd = 0;         // ioctl
  uint32_t ioctl_flags = 0; // ioctl
  uint64_t out_bufsz = 0;   // ioctl
  uint32_t events = 0;      // poll
  uint64_t kh = 0;          // poll
  uint32_t fuse_field = 0;  // fuse_only: the oneof field number, for logs
};

enum class ReplyKind : uint8_t {
  error,  // err = positive errno, no reply member
  empty,  // flush, release, fsync success: empty FuseResponse
  open,   // OpenReply selected (empty)
  buf,    // BufReply; empty data = EOF
  write,  // WriteReply.count
  ioctl,  // IoctlReply.result + buf
  poll,   // PollReply.revents
};

// One reply. A buf or ioctl payload is `data` followed by `segments`;
// decoded replies (clients) and most host replies use `data` alone, while a
// P1 read carries the queued output chunks themselves in `segments`, so
// they reach the socket uncopied (byte_segments.h).
struct Reply {
  uint64_t id = 0;
  uint64_t fh = 0;
  ReplyKind kind = ReplyKind::empty;
  int32_t err = 0;        // error: positive errno
  std::string data;       // buf data, ioctl buf
  ByteSegments segments;  // more payload after `data`
  uint64_t count = 0;     // write
  int32_t result = 0;     // ioctl
  uint32_t revents = 0;   // poll

  size_t payload_size() const { return data.size() + segments.size(); }
  // The whole payload in one string (tests, clients, logs).
  std::string payload() const { return segments.empty() ? data : data + segments.flatten(); }

  static Reply error(int32_t positive_errno) {
    Reply r;
    r.kind = ReplyKind::error;
    r.err = positive_errno;
    return r;
  }
  static Reply empty() { return Reply{}; }
  static Reply opened() {
    Reply r;
    r.kind = ReplyKind::open;
    return r;
  }
  static Reply bytes(std::string data) {
    Reply r;
    r.kind = ReplyKind::buf;
    r.data = std::move(data);
    return r;
  }
  // A buf reply whose bytes stay in the pieces they came in.
  static Reply segmented(ByteSegments pieces) {
    Reply r;
    r.kind = ReplyKind::buf;
    r.segments = std::move(pieces);
    return r;
  }
  static Reply written(uint64_t count) {
    Reply r;
    r.kind = ReplyKind::write;
    r.count = count;
    return r;
  }
  static Reply ioctl_result(int32_t result, std::string buf = {}) {
    Reply r;
    r.kind = ReplyKind::ioctl;
    r.result = result;
    r.data = std::move(buf);
    return r;
  }
  static Reply polled(uint32_t revents) {
    Reply r;
    r.kind = ReplyKind::poll;
    r.revents = revents;
    return r;
  }
};

}  // namespace bentos::wire
