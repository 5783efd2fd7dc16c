// L1 raw layer rules (behavior.md §2): the defaults for ops a plugin leaves
// unset, and how a plugin's completion becomes the reply to a given op.
// Pure functions; no thread affinity.
#pragma once

#include <cstdint>
#include <string>

#include "patterns/completion.h"
#include "wire/ops.h"

namespace bentos::patterns {

// open -> success (empty OpenReply); flush, release, fsync -> empty
// success; read, write, ioctl, poll -> ENOSYS.
wire::Reply raw_default_reply(wire::OpKind op);

// The reply for `op` answered by `c`. A completion of the wrong kind for the
// op (say complete_count for a read) is a plugin bug: EIO, and `problem`
// says what happened. A read answer longer than `read_size` is cut to it (a
// FUSE kernel rejects longer replies) and `problem` says so too.
wire::Reply raw_reply(wire::OpKind op, const Completion& c, uint64_t read_size,
                      std::string& problem);

}  // namespace bentos::patterns
