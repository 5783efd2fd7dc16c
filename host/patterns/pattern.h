// The five patterns and the rules every pattern shares (behavior.md §1).
// Pure functions; no thread affinity.
#pragma once

#include <cstdint>

#include "wire/ops.h"

namespace bentos::patterns {

enum class Pattern : uint32_t {
  raw = 1,
  stream = 2,
  write_read = 3,
  event_stream = 4,
  configured_stream = 5,
};

const char* pattern_name(Pattern pattern);

// Linux poll bits and the open flag the host honours.
inline constexpr uint32_t kPollIn = 0x01;
inline constexpr uint32_t kPollOut = 0x04;
inline constexpr uint32_t kPollHup = 0x10;
inline constexpr int32_t kONonblock = 0x800;

// The answer to an op on an fh with no session on its connection (§1.6):
// read, write, poll, ioctl -> EIO; release -> success; flush -> success in
// P1/P3/raw, EIO in P2/P4; fsync -> success except P4 (EIO); P3 write ->
// EACCES. `op` is never open, none or fuse_only.
wire::Reply unknown_session_reply(Pattern pattern, wire::OpKind op);

}  // namespace bentos::patterns
