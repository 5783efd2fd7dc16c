#include "plugin/call_tracker.h"

#include <algorithm>
#include <cerrno>

#include "plugin/handle_table.h"
#include "util/log.h"

namespace bentos::plugin {

using patterns::Completion;

namespace {
// How often, at most, a device with calls in flight looks for expired ones:
// an eighth of the timeout, so an answer comes at most 12.5% late, within
// [1 ms, 250 ms].
uint64_t scan_interval_ms(uint64_t timeout_ms) { return std::clamp<uint64_t>(timeout_ms / 8, 1, 250); }
}  // namespace

CallTracker::CallTracker(uv_loop_t* loop, std::shared_ptr<loop::LoopInbox> inbox, std::string device,
                         uint64_t timeout_ms)
    : route_(std::make_shared<CallRoute>()), timeout_ms_(timeout_ms), loop_(loop) {
  route_->inbox = std::move(inbox);
  route_->device = std::move(device);
  route_->tracker = this;
  if (timeout_ms_ > 0) {
    timer_ = new uv_timer_t;
    uv_timer_init(loop_, timer_);
    timer_->data = this;
  }
}

CallTracker::~CallTracker() { close(); }

bentos_call* CallTracker::start(uint64_t link_id, Deliver deliver) {
  PendingCall call;
  call.route = route_;
  call.link_id = link_id;
  call.deadline_ms = timer_ ? uv_now(loop_) + timeout_ms_ : 0;
  call.deliver = std::move(deliver);
  const uint64_t id = call_table().add(std::move(call));
  if (++outstanding_ == 1) arm_timer();
  return handle_from_id<bentos_call>(id);
}

void CallTracker::deliver(PendingCall& call, Completion&& answer) {
  --outstanding_;
  call.deliver(std::move(answer));
}

void CallTracker::returned(bentos_call* call, int64_t rc, const char* callback) {
  if (rc >= 0) return;
  std::optional<PendingCall> pending = call_table().take(id_from_handle(call));
  if (!pending) {
    log::warn(route_->device, std::string(callback) + " returned " + std::to_string(rc) +
                                  " after answering its call; the return value is ignored");
    return;
  }
  if (!patterns::is_negative_errno(rc)) {
    log::warn(route_->device, std::string("plugin ") + callback + " returned " + std::to_string(rc) +
                                  ", not a negative errno (-1 to -4095); answering EIO");
  }
  deliver(*pending, Completion::error(patterns::wire_errno(rc)));
}

void CallTracker::forget_link(uint64_t link_id) {
  if (link_id == 0 || outstanding_ == 0) return;
  outstanding_ -= call_table().take_matching(route_.get(), link_id, 0).size();
}

void CallTracker::close() {
  if (!route_->tracker) return;
  // Answers already taken from the table and queued in the inbox find no
  // tracker and are dropped.
  route_->tracker = nullptr;
  call_table().take_matching(route_.get(), 0, 0);
  outstanding_ = 0;
  if (timer_) {
    uv_timer_stop(timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    timer_ = nullptr;
  }
}

int32_t complete_call(bentos_call* call, Completion&& answer, const std::string& plugin_bug) {
  const uint64_t id = id_from_handle(call);
  std::optional<PendingCall> pending = call_table().take(id);
  if (!pending) {
    log::warn("plugin", "call #" + std::to_string(id) + " completed (" +
                            patterns::completion_kind_name(answer.kind) +
                            ") but it was already answered, timed out, or its connection closed; dropped");
    return -ESTALE;
  }
  const std::shared_ptr<const CallRoute> route = pending->route;
  if (!plugin_bug.empty()) log::warn(route->device, "plugin " + plugin_bug);
  auto task = [call = std::move(*pending), answer = std::move(answer)]() mutable {
    if (CallTracker* tracker = call.route->tracker) tracker->deliver(call, std::move(answer));
  };
  static_assert(loop::LoopInbox::Task::fits_inline<decltype(task)>(), "a completion must not allocate");
  if (!route->inbox->post(std::move(task))) {
    log::debug(route->device, "completion after shutdown began; dropped");
  }
  return 0;
}

void CallTracker::arm_timer() {
  if (!timer_ || outstanding_ == 0 || uv_is_active(reinterpret_cast<uv_handle_t*>(timer_))) return;
  uv_timer_start(timer_, &CallTracker::on_timer, scan_interval_ms(timeout_ms_), 0);
}

void CallTracker::on_timer(uv_timer_t* t) {
  auto* self = static_cast<CallTracker*>(t->data);
  // Held here so the loop below can tell whether a deliver closed the
  // tracker (a reply only queues bytes today, but nothing here would
  // survive it).
  const std::shared_ptr<CallRoute> route = self->route_;
  auto expired = call_table().take_matching(route.get(), 0, uv_now(self->loop_));
  for (auto& [id, call] : expired) {
    ++self->timeouts_;
    log::warn(route->device, "a request was not answered within " + std::to_string(self->timeout_ms_) +
                                 " ms; answering ETIMEDOUT (a late answer will be dropped)");
    self->deliver(call, Completion::error(ETIMEDOUT));
    if (!route->tracker) return;
  }
  self->arm_timer();
}

}  // namespace bentos::plugin
