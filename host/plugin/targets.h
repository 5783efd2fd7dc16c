// What the "any thread" output services reach: a P1 session's output queue
// (push), a P4 cycle (yield/end), a P3 device (emit). Pattern drivers in
// device/drivers/ implement these; the services find them through handle tables
// (sessions, streams) or the bentos_host (emit), so a stale handle is
// detected instead of dereferenced.
//
// Implementations are called from any thread and must be thread-safe.
#pragma once

#include <cstdint>

#include "plugin/handle_table.h"

namespace bentos::plugin {

class PushTarget {
 public:
  virtual ~PushTarget() = default;
  // 0 queued, -EAGAIN over max_buffered_bytes (nothing queued), -EPIPE
  // after end_output.
  virtual int32_t push(const void* data, uint64_t len) = 0;
  // The session's output is over (0) or failed (a negative errno): 0, or
  // -EALREADY when it had ended already.
  virtual int32_t end_output(int32_t negative_errno) = 0;
};

class CycleTarget {
 public:
  virtual ~CycleTarget() = default;
  // 0, or -ECANCELED after DROP/RESET/release (nothing is delivered).
  virtual int32_t yield(const void* data, uint64_t len) = 0;
  // The stream's end: 0 or a negative errno. Called once (the services
  // take the handle out of the table first).
  virtual int32_t end(int32_t negative_errno) = 0;
};

class EmitTarget {
 public:
  virtual ~EmitTarget() = default;
  virtual int32_t emit(const void* data, uint64_t len) = 0;
};

HandleTable<PushTarget>& push_targets();
HandleTable<CycleTarget>& cycle_targets();

}  // namespace bentos::plugin
