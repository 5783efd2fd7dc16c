#include "patterns/raw.h"

#include <cerrno>

namespace bentos::patterns {

using wire::OpKind;
using wire::Reply;

Reply raw_default_reply(OpKind op) {
  switch (op) {
    case OpKind::open: return Reply::opened();
    case OpKind::flush:
    case OpKind::release:
    case OpKind::fsync: return Reply::empty();
    default: return Reply::error(ENOSYS);
  }
}

namespace {

// Which completion kind answers an op successfully.
Completion::Kind expected_kind(OpKind op) {
  switch (op) {
    case OpKind::read: return Completion::Kind::bytes;
    case OpKind::write: return Completion::Kind::count;
    case OpKind::ioctl: return Completion::Kind::ioctl;
    case OpKind::poll: return Completion::Kind::poll;
    default: return Completion::Kind::ok;
  }
}

}  // namespace

Reply raw_reply(OpKind op, const Completion& c, uint64_t read_size, std::string& problem) {
  problem.clear();
  if (c.kind == Completion::Kind::error) {
    if (c.err <= 0) {
      problem = "complete_error with a non-negative errno; answering EIO";
      return Reply::error(EIO);
    }
    return Reply::error(c.err);
  }
  if (c.kind != expected_kind(op)) {
    problem = std::string("answered ") + wire::op_name(op) + " with " + completion_kind_name(c.kind) +
              " (expected " + completion_kind_name(expected_kind(op)) + "); answering EIO";
    return Reply::error(EIO);
  }
  switch (op) {
    case OpKind::open: return Reply::opened();
    case OpKind::read: {
      if (c.data.size() <= read_size) return Reply::bytes(c.data);
      problem = "read answered with " + std::to_string(c.data.size()) + " bytes for a read of " +
                std::to_string(read_size) + "; cut to the requested size";
      return Reply::bytes(c.data.substr(0, read_size));
    }
    case OpKind::write: return Reply::written(c.count);
    case OpKind::ioctl: return Reply::ioctl_result(c.result, c.data);
    case OpKind::poll: return Reply::polled(c.revents);
    default: return Reply::empty();
  }
}

}  // namespace bentos::patterns
