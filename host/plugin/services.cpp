// The host services table (driver.h): what a plugin can call. Every entry
// here says which thread may call it; "any" entries only touch thread-safe
// state (the handle tables, the inbox, the logger).
#include "plugin/services.h"

#include <atomic>
#include <cerrno>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "plugin/bentos_host.h"
#include "plugin/call_tracker.h"
#include "plugin/targets.h"
#include "util/log.h"

namespace bentos::plugin {

using patterns::Completion;

namespace {

std::string device_of(bentos_host* host) { return host ? host->device : std::string("plugin"); }

// any thread
void svc_log(bentos_host* host, int32_t level, const char* message) {
  const int clamped = level < 0 ? 0 : (level > 3 ? 3 : level);
  log::write(static_cast<log::Level>(clamped), device_of(host), message ? message : "(null)");
}

// any thread
int32_t svc_complete_bytes(bentos_call* call, const void* data, uint64_t len) {
  if (!data && len > 0) return complete_call(call, Completion::error(EIO));
  return complete_call(call, Completion::bytes(std::string(static_cast<const char*>(data), len)));
}

// any thread
int32_t svc_complete_count(bentos_call* call, uint64_t count) {
  Completion c;
  c.kind = Completion::Kind::count;
  c.count = count;
  return complete_call(call, std::move(c));
}

// any thread
int32_t svc_complete_ok(bentos_call* call) { return complete_call(call, Completion{}); }

// any thread
int32_t svc_complete_ioctl(bentos_call* call, int32_t result, const void* data, uint64_t len) {
  Completion c;
  c.kind = Completion::Kind::ioctl;
  c.result = result;
  if (data && len > 0) c.data.assign(static_cast<const char*>(data), len);
  return complete_call(call, std::move(c));
}

// any thread
int32_t svc_complete_poll(bentos_call* call, uint32_t revents) {
  Completion c;
  c.kind = Completion::Kind::poll;
  c.revents = revents;
  return complete_call(call, std::move(c));
}

// any thread. Anything but -1..-4095 is a plugin bug: 0 ("failed with
// success"), a positive errno (the sign forgotten: a client must not see a
// code that may mean something else) or an absurd one. It answers EIO and
// is logged.
int32_t svc_complete_error(bentos_call* call, int32_t negative_errno) {
  std::string bug;
  if (!patterns::is_negative_errno(negative_errno)) {
    bug = "completed a call with complete_error(" + std::to_string(negative_errno) +
          "), not a negative errno (-1 to -4095); answering EIO";
  }
  return complete_call(call, Completion::error(patterns::wire_errno(negative_errno)), bug);
}

// any thread. P1 output for one session.
int32_t svc_push(bentos_session* session, const void* data, uint64_t len) {
  if (!data && len > 0) return -EINVAL;
  auto target = push_targets().find(id_from_handle(session));
  if (!target) return -ESTALE;  // the session ended: its reader is gone
  return target->push(data, len);
}

// any thread. P3: one event to every listener of the instance.
int32_t svc_emit(bentos_host* host, const void* data, uint64_t len) {
  if (!host) return -EINVAL;
  if (!data && len > 0) return -EINVAL;
  std::shared_ptr<EmitTarget> target;
  {
    std::lock_guard<std::mutex> lock(host->emit_mutex);
    target = host->emit_target;
  }
  if (!target) return 0;  // not an event-stream device (yet): nobody listens
  return target->emit(data, len);
}

// any thread. P4: one output record of a cycle.
int32_t svc_yield(bentos_cycle* stream, const void* data, uint64_t len) {
  if (!data && len > 0) return -EINVAL;
  auto target = cycle_targets().find(id_from_handle(stream));
  if (!target) {
    log::warn("plugin", "yield on stream #" + std::to_string(id_from_handle(stream)) +
                            " after its end() or failed process(); dropped");
    return -ESTALE;
  }
  return target->yield(data, len);
}

// any thread. P4: the end of a cycle, exactly once.
int32_t svc_end(bentos_cycle* stream, int32_t negative_errno) {
  auto target = cycle_targets().take(id_from_handle(stream));
  if (!target) {
    log::warn("plugin", "end() on stream #" + std::to_string(id_from_handle(stream)) +
                            " that already ended (or whose process() failed); dropped");
    return -ESTALE;
  }
  return target->end(negative_errno);
}

// Runs `task` on the loop thread for `host`: now when already there, else
// through the inbox and the instance's gate (held until its create()
// returned, dropped once its destroy() began).
bool on_loop(bentos_host* host, std::function<void()> task) {
  if (std::this_thread::get_id() == host->loop_thread) {
    task();
    return true;
  }
  return host->inbox->post([gate = host->gate, task = std::move(task)]() mutable { gate->run(std::move(task)); });
}

// any thread. Always queued, even on the loop thread: "soon", not "now".
int32_t svc_post(bentos_host* host, bentos_task_fn fn, void* arg) {
  if (!host || !fn) return -EINVAL;
  return host->inbox->post([gate = host->gate, guard = host->guard, fn, arg] {
           gate->run([guard, fn, arg] { guard->run("a post() task", [&] { fn(arg); }); });
         })
             ? 0
             : -ESHUTDOWN;
}

// any thread (the callback runs on the loop thread)
uint64_t svc_timer_start(bentos_host* host, uint64_t delay_ms, uint64_t repeat_ms, bentos_task_fn fn,
                         void* arg) {
  if (!host || !host->timers || !fn) return 0;
  const uint64_t id = host->timers->reserve_id();
  TimerSet* timers = host->timers.get();
  if (std::this_thread::get_id() == host->loop_thread) {
    timers->start(id, delay_ms, repeat_ms, fn, arg);
    return id;
  }
  timers->note_remote_start();
  if (!on_loop(host, [=] { timers->start(id, delay_ms, repeat_ms, fn, arg, /*remote=*/true); })) return 0;
  return id;
}

// any thread
int32_t svc_timer_stop(bentos_host* host, uint64_t timer_id) {
  if (!host || !host->timers) return -EINVAL;
  if (std::this_thread::get_id() == host->loop_thread) return host->timers->stop(timer_id) ? 0 : -ENOENT;
  TimerSet* timers = host->timers.get();
  return on_loop(host, [=] { timers->stop(timer_id); }) ? 0 : -ESHUTDOWN;
}

// any thread
const char* svc_device_name(bentos_host* host) { return host ? host->device.c_str() : ""; }

// any thread. ABI 1.1: P1 end of output for one session.
int32_t svc_end_output(bentos_session* session, int32_t negative_errno) {
  auto target = push_targets().find(id_from_handle(session));
  if (!target) return -ESTALE;  // the session ended
  if (negative_errno != 0 && !patterns::is_negative_errno(negative_errno)) {
    log::warn("plugin", "end_output(" + std::to_string(negative_errno) +
                            ") is not 0 or a negative errno (-1 to -4095); readers get EIO");
  }
  return target->end_output(negative_errno);
}

const bentos_host_services kServices = {
    sizeof(bentos_host_services),
    BENTOS_ABI_MINOR,
    svc_log,
    svc_complete_bytes,
    svc_complete_count,
    svc_complete_ok,
    svc_complete_ioctl,
    svc_complete_poll,
    svc_complete_error,
    svc_push,
    svc_emit,
    svc_yield,
    svc_end,
    svc_post,
    svc_timer_start,
    svc_timer_stop,
    svc_device_name,
    svc_end_output,
};

}  // namespace

const bentos_host_services* host_services() { return &kServices; }

}  // namespace bentos::plugin
