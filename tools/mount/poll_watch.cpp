#include "poll_watch.h"

#include <poll.h>

#include <utility>
#include <vector>

namespace bentos::mount {

bool poll_ready(uint32_t events, uint32_t revents) {
  const uint32_t asked = events != 0 ? events : uint32_t{POLLIN | POLLOUT};
  return (revents & (asked | POLLERR | POLLHUP | POLLNVAL)) != 0;
}

PollWatch::PollWatch(uv_loop_t* loop, Ask ask, uint64_t interval_ms)
    : ask_(std::move(ask)), interval_ms_(interval_ms) {
  uv_timer_init(loop, &timer_);
  timer_.data = this;
}

PollWatch::~PollWatch() {
  for (auto& [file, w] : watches_) fuse_pollhandle_destroy(w.handle);
}

void PollWatch::watch(uint64_t file, fuse_pollhandle* handle, uint32_t events) {
  if (closed_) {
    fuse_pollhandle_destroy(handle);
    return;
  }
  Watch& w = watches_[file];
  if (w.handle != nullptr && w.handle != handle) fuse_pollhandle_destroy(w.handle);
  // Every poller of the file waits on the same kernel queue: wake it for
  // any event one of them asked for (0 = all).
  const bool had = w.handle != nullptr;
  w.handle = handle;
  w.events = had && (w.events == 0 || events == 0) ? 0 : (had ? w.events | events : events);
  w.serial = next_serial_++;
  w.asking = false;  // an answer for the older watch is stale now
  update_timer();
}

void PollWatch::forget(uint64_t file, bool notify) {
  const auto it = watches_.find(file);
  if (it == watches_.end()) return;
  if (notify) fuse_lowlevel_notify_poll(it->second.handle);
  fuse_pollhandle_destroy(it->second.handle);
  watches_.erase(it);
  update_timer();
}

void PollWatch::notify_all() {
  for (auto& [file, w] : watches_) {
    fuse_lowlevel_notify_poll(w.handle);
    fuse_pollhandle_destroy(w.handle);
  }
  watches_.clear();
  update_timer();
}

void PollWatch::close() {
  if (closed_) return;
  closed_ = true;
  for (auto& [file, w] : watches_) fuse_pollhandle_destroy(w.handle);
  watches_.clear();
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
}

void PollWatch::update_timer() {
  if (closed_) return;
  const bool want = !watches_.empty();
  if (want && !timer_running_) {
    uv_timer_start(&timer_, on_timer, interval_ms_, interval_ms_);
    timer_running_ = true;
  } else if (!want && timer_running_) {
    uv_timer_stop(&timer_);
    timer_running_ = false;
  }
}

void PollWatch::on_timer(uv_timer_t* timer) { static_cast<PollWatch*>(timer->data)->tick(); }

void PollWatch::tick() {
  // Collect first: an answer may come back inside ask_ and change the map.
  std::vector<std::pair<uint64_t, Watch>> due;
  for (auto& [file, w] : watches_) {
    if (w.asking) continue;
    w.asking = true;
    due.emplace_back(file, w);
  }
  for (const auto& entry : due) {
    const uint64_t file = entry.first;
    const uint64_t serial = entry.second.serial;
    ask_(file, entry.second.events,
         [this, file, serial](std::optional<uint32_t> revents) { on_answer(file, serial, revents); });
  }
}

void PollWatch::on_answer(uint64_t file, uint64_t serial, std::optional<uint32_t> revents) {
  if (closed_) return;
  const auto it = watches_.find(file);
  if (it == watches_.end() || it->second.serial != serial) return;  // replaced or forgotten
  it->second.asking = false;
  if (revents && !poll_ready(it->second.events, *revents)) return;  // ask again next tick
  forget(file, true);
}

}  // namespace bentos::mount
