// One open file on a device: what every pattern driver's session shares.
// Sessions are keyed by (connection, fh) (patterns.md §1.4) and live in
// their Link's table.
//
// Owned by its Link's fh table (a P2 call in flight also holds its
// session). Loop thread only, except `started`, which belongs to the
// session's executor strand.
#pragma once

#include <cstdint>

namespace bentos::device {

// One open file. Pattern drivers derive their own session types.
struct Session {
  Session(uint64_t fh_, uint64_t link_id_) : fh(fh_), link_id(link_id_) {}
  virtual ~Session() = default;
  const uint64_t fh;
  const uint64_t link_id;
  bool ended = false;  // end hooks ran (release, re-open, disconnect)
  // The plugin's session start succeeded. Written and read only on the
  // session's strand, so an end hook queued while the start was still
  // pending knows whether there is anything to end.
  bool started = false;
};

}  // namespace bentos::device
