#include "patterns/pattern.h"

#include <cerrno>

#include "patterns/completion.h"

namespace bentos::patterns {

using wire::OpKind;
using wire::Reply;

const char* pattern_name(Pattern pattern) {
  switch (pattern) {
    case Pattern::raw: return "raw";
    case Pattern::stream: return "stream";
    case Pattern::write_read: return "write_read";
    case Pattern::event_stream: return "event_stream";
    case Pattern::configured_stream: return "configured_stream";
  }
  return "unknown";
}

const char* completion_kind_name(Completion::Kind kind) {
  switch (kind) {
    case Completion::Kind::bytes: return "complete_bytes";
    case Completion::Kind::count: return "complete_count";
    case Completion::Kind::ok: return "complete_ok";
    case Completion::Kind::ioctl: return "complete_ioctl";
    case Completion::Kind::poll: return "complete_poll";
    case Completion::Kind::error: return "complete_error";
  }
  return "?";
}

Reply unknown_session_reply(Pattern pattern, OpKind op) {
  const bool strict_flush = pattern == Pattern::write_read || pattern == Pattern::configured_stream;
  switch (op) {
    case OpKind::write:
      return Reply::error(pattern == Pattern::event_stream ? EACCES : EIO);
    case OpKind::release:
      return Reply::empty();
    case OpKind::flush:
      return strict_flush ? Reply::error(EIO) : Reply::empty();
    case OpKind::fsync:
      return pattern == Pattern::configured_stream ? Reply::error(EIO) : Reply::empty();
    case OpKind::read:
    case OpKind::poll:
    case OpKind::ioctl:
    default:
      return Reply::error(EIO);
  }
}

}  // namespace bentos::patterns
