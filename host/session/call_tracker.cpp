#include "session/call_tracker.h"

#include <cerrno>

#include "plugin/calls.h"
#include "util/log.h"

namespace bentos::session {

using patterns::Completion;
using plugin::call_table;

CallTracker::CallTracker(uv_loop_t* loop, std::shared_ptr<plugin::LoopInbox> inbox, std::string device,
                         uint64_t timeout_ms)
    : inbox_(std::move(inbox)), device_(std::move(device)), timeout_ms_(timeout_ms), loop_(loop) {
  if (timeout_ms_ > 0) {
    timer_ = new uv_timer_t;
    uv_timer_init(loop_, timer_);
    timer_->data = this;
  }
}

CallTracker::~CallTracker() { close(); }

bentos_call* CallTracker::start(uint64_t link_id, Deliver deliver) {
  auto pending = std::make_shared<plugin::PendingCall>();
  pending->inbox = inbox_;
  pending->device = device_;
  const uint64_t id = call_table().add(pending);
  std::weak_ptr<CallTracker> weak = weak_from_this();
  pending->deliver = [weak, link_id, id, deliver = std::move(deliver)](Completion&& c) {
    auto self = weak.lock();
    if (!self) return;  // the device is gone
    self->finished(link_id, id);
    deliver(std::move(c));
  };
  all_.emplace(id, link_id);
  if (link_id != 0) by_link_[link_id].insert(id);
  if (timer_) {
    deadlines_.emplace_back(uv_now(loop_) + timeout_ms_, id);
    if (deadlines_.size() == 1) arm_timer();
  }
  return plugin::handle_from_id<bentos_call>(id);
}

void CallTracker::returned(bentos_call* call, int64_t rc, const char* callback) {
  if (rc >= 0) return;
  auto pending = call_table().take(plugin::id_from_handle(call));
  if (!pending) {
    log::warn(device_, std::string(callback) + " returned " + std::to_string(rc) +
                           " after answering its call; the return value is ignored");
    return;
  }
  if (!patterns::is_negative_errno(rc)) {
    log::warn(device_, std::string("plugin ") + callback + " returned " + std::to_string(rc) +
                           ", not a negative errno (-1 to -4095); answering EIO");
  }
  pending->deliver(Completion::error(patterns::wire_errno(rc)));
}

void CallTracker::finished(uint64_t link_id, uint64_t call_id) {
  all_.erase(call_id);
  if (link_id == 0) return;
  auto it = by_link_.find(link_id);
  if (it == by_link_.end()) return;
  it->second.erase(call_id);
  if (it->second.empty()) by_link_.erase(it);
}

void CallTracker::forget_link(uint64_t link_id) {
  auto it = by_link_.find(link_id);
  if (it == by_link_.end()) return;
  for (uint64_t id : it->second) {
    call_table().take(id);
    all_.erase(id);
  }
  by_link_.erase(it);
}

void CallTracker::close() {
  for (auto& [id, link] : all_) call_table().take(id);
  all_.clear();
  by_link_.clear();
  deadlines_.clear();
  if (timer_) {
    uv_timer_stop(timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    timer_ = nullptr;
  }
}

void CallTracker::arm_timer() {
  if (!timer_ || deadlines_.empty()) return;
  const uint64_t now = uv_now(loop_);
  const uint64_t due = deadlines_.front().first;
  uv_timer_start(timer_, &CallTracker::on_timer, due > now ? due - now : 0, 0);
}

void CallTracker::on_timer(uv_timer_t* t) {
  auto* self = static_cast<CallTracker*>(t->data);
  auto keep = self->shared_from_this();
  const uint64_t now = uv_now(self->loop_);
  while (!self->deadlines_.empty() && self->deadlines_.front().first <= now) {
    const uint64_t id = self->deadlines_.front().second;
    self->deadlines_.pop_front();
    auto pending = call_table().take(id);
    if (!pending) continue;  // answered in time
    ++self->timeouts_;
    log::warn(self->device_, "a request was not answered within " + std::to_string(self->timeout_ms_) +
                                 " ms; answering ETIMEDOUT (a late answer will be dropped)");
    pending->deliver(Completion::error(ETIMEDOUT));
  }
  self->arm_timer();
}

}  // namespace bentos::session
