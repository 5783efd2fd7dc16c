// Helpers shared by the FuseBridge translation units (fuse_bridge*.cpp).
// Internal to tools/mount; no thread affinity (pure functions).
#pragma once

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <deque>

#include "fuse_bridge.h"

namespace bentos::mount::detail {

using wire::OpKind;

// What the kernel reads from a file without a poll method.
inline constexpr uint32_t kDefaultPollMask = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

// A device's errno, as the kernel should see it. Some ENOSYS answers would
// switch the op off for the whole mount (the kernel remembers "the
// filesystem has no flush/fsync/poll/open"), so those are mapped to what
// the kernel would do for this one call anyway, or to the errno Linux
// character devices give.
inline int kernel_errno(int err, OpKind kind) {
  if (err <= 0 || err >= 512) return EIO;  // the kernel refuses others
  if (err != ENOSYS) return err;
  switch (kind) {
    case OpKind::open: return EIO;
    case OpKind::ioctl: return ENOTTY;
    case OpKind::flush:
    case OpKind::fsync: return 0;
    default: return err;
  }
}

inline wire::Request make_request(OpKind kind, uint64_t fh) {
  wire::Request r;
  r.kind = kind;
  r.fh = fh;
  return r;
}

inline void remove_from(std::deque<uint64_t>& keys, uint64_t key) {
  keys.erase(std::remove(keys.begin(), keys.end(), key), keys.end());
}

inline FuseBridge* bridge_of(fuse_req_t req) { return static_cast<FuseBridge*>(fuse_req_userdata(req)); }


}  // namespace bentos::mount::detail
