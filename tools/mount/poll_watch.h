// Re-asked polls. The wire has no readiness notifications (wire.md: a poll
// is only ever answered), so when the kernel asked to be notified
// (FUSE_POLL_SCHEDULE_NOTIFY: a poll handle came with the request) and the
// asked events were not ready, the handle is kept here and the device is
// asked again every interval, until the answer shows one of the asked events
// (or POLLERR/POLLHUP, or the request fails). Then the kernel is notified
// (fuse_lowlevel_notify_poll), which makes it poll again for real, and the
// handle is destroyed.
//
// One handle per open file: a newer poll replaces the older handle (the
// kernel's handle is per file anyway). Owned by the FUSE bridge; loop thread
// only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>

#include "fuse_api.h"

namespace bentos::mount {

class PollWatch {
 public:
  // Asks the device for `file`'s readiness; calls `answer` with the revents,
  // or with nullopt when the file or its connection is gone or the device
  // answered an error. May call `answer` later (normally) or never (when
  // the file is released meanwhile; forget() covers that).
  using Answer = std::function<void(std::optional<uint32_t> revents)>;
  using Ask = std::function<void(uint64_t file, uint32_t events, Answer answer)>;

  PollWatch(uv_loop_t* loop, Ask ask, uint64_t interval_ms = 50);
  ~PollWatch();
  PollWatch(const PollWatch&) = delete;
  PollWatch& operator=(const PollWatch&) = delete;

  // Takes `handle` for `file`: the kernel waits for `events`.
  void watch(uint64_t file, fuse_pollhandle* handle, uint32_t events);
  // Drops `file`'s handle; with `notify`, the kernel is told first (so it
  // polls again and sees the new state, e.g. an error).
  void forget(uint64_t file, bool notify);
  // Notifies every waiting kernel poller, then drops all handles.
  void notify_all();

  size_t size() const { return watches_.size(); }

  // Drops all handles and closes the timer (shutdown; the loop must run
  // afterwards).
  void close();

 private:
  struct Watch {
    fuse_pollhandle* handle = nullptr;
    uint32_t events = 0;
    uint64_t serial = 0;  // tells a stale answer from the current watch
    bool asking = false;
  };

  static void on_timer(uv_timer_t* timer);
  void tick();
  void on_answer(uint64_t file, uint64_t serial, std::optional<uint32_t> revents);
  void update_timer();

  uv_timer_t timer_{};
  Ask ask_;
  uint64_t interval_ms_;
  std::map<uint64_t, Watch> watches_;
  uint64_t next_serial_ = 1;
  bool closed_ = false;
  bool timer_running_ = false;
};

// True when `revents` satisfies a poll that asked for `events` (errors and
// hang-ups always do). An empty `events` means POLLIN|POLLOUT.
bool poll_ready(uint32_t events, uint32_t revents);

}  // namespace bentos::mount
