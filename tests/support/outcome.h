// A compact, test-owned spelling of a reply, so assertions read like the
// behaviour tables: "opened", "ok", "wrote 12", "data:OK\n", "eof",
// "err:EAGAIN", "ioctl:3:dead", "poll:4", or "none" when no reply came.
#pragma once

#include <optional>
#include <string>

#include "client.h"
#include "wire/ops.h"

namespace bentos::test {

inline std::string outcome(const std::optional<wire::Reply>& r) {
  if (!r) return "none";
  switch (r->kind) {
    case wire::ReplyKind::error: return "err:" + client::errno_name(r->err);
    case wire::ReplyKind::empty: return "ok";
    case wire::ReplyKind::open: return "opened";
    case wire::ReplyKind::buf: return r->data.empty() ? "eof" : "data:" + r->data;
    case wire::ReplyKind::write: return "wrote " + std::to_string(r->count);
    case wire::ReplyKind::ioctl: return "ioctl:" + std::to_string(r->result) + ":" + client::to_hex(r->data);
    case wire::ReplyKind::poll: return "poll:" + std::to_string(r->revents);
  }
  return "?";
}

}  // namespace bentos::test
