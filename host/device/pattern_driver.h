// The glue between the session layer and one pattern: a PatternDriver turns
// requests on a session into state-machine events and plugin calls, and
// their results into replies. One per device.
//
// Owned by its Device; loop thread only.
#pragma once

#include <cstdint>
#include <memory>

#include "device/link.h"
#include "wire/ops.h"

namespace bentos::device {

class PatternDriver {
 public:
  virtual ~PatternDriver() = default;

  // An open on `link`. Any old session on that fh was already ended and the
  // session limit checked. The driver stores the new session in the link
  // when (or, for raw, before) it succeeds, and answers through `r`.
  virtual void open(Link& link, const wire::Request& req, Responder r) = 0;

  // Any op other than open and release, on a live session.
  virtual void op(Link& link, const std::shared_ptr<Session>& s, wire::Request&& req, Responder r) = 0;

  // A release: `s` was already taken out of the link.
  virtual void release(Link& link, std::shared_ptr<Session> s, const wire::Request& req, Responder r) = 0;

  // A session ended without a release (re-open of its fh, or its
  // connection died): everything a release does but the release's own
  // answer (§1.4, §1.5): end hooks run, work in flight is cancelled, parked
  // reads answer EIO (on a dead connection those answers are dropped).
  virtual void end(std::shared_ptr<Session> s) = 0;

  // Events dropped for listeners that fell behind (P3's max_events); the
  // other patterns drop none.
  virtual uint64_t dropped_events() const { return 0; }
};

}  // namespace bentos::device
