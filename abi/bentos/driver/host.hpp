/*
 * bentos/driver/host.hpp - part of the C++ authoring layer (bentos/driver.hpp).
 * Host access: bentos::host_handle (log, device name, emit, timers) and
 * bentos::reply (the answer to one asynchronous request).
 */
#pragma once

#include "bentos/driver.h"
#include "bentos/driver/errors.hpp"

#include <atomic>
#include <exception>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace bentos {

enum class log_level : int32_t {
  error = BENTOS_LOG_ERROR,
  warn = BENTOS_LOG_WARN,
  info = BENTOS_LOG_INFO,
  debug = BENTOS_LOG_DEBUG,
};

// Who a new session is: open flags, fh, connection (driver.h).
using session_info = bentos_session_info;

// The instance's link to the host: logging, the device name and P3 events
// (timers: bentos::timer below). Two
// pointers, cheap to copy; valid from the driver's constructor until its
// destructor returns. Every member may be called from any thread.
class host_handle {
 public:
  host_handle(bentos_host* host, const bentos_host_services* services) noexcept
      : host_(host), services_(services) {}

  // Never throws: a line that cannot be built (out of memory) is dropped.
  void log(log_level level, std::string_view message) const noexcept {
    try {
      services_->log(host_, static_cast<int32_t>(level), std::string(message).c_str());
    } catch (...) {
    }
  }
  std::string_view device_name() const noexcept {
    const char* name = services_->device_name(host_);
    return name ? name : "";
  }

  // P3 event streams: one encoded event to every current listener of the
  // instance. Returns 0 (also when nobody listens) or a negative errno.
  // bentos::event_emitter<E> (event_stream.hpp) adds typed events on top.
  int32_t emit(const void* data, size_t len) const noexcept { return services_->emit(host_, data, len); }
  int32_t emit(std::string_view event) const noexcept { return emit(event.data(), event.size()); }

  // Escape hatches for services this layer does not wrap yet.
  bentos_host* raw_host() const noexcept { return host_; }
  const bentos_host_services* services() const noexcept { return services_; }

 private:
  bentos_host* host_;
  const bentos_host_services* services_;
};

namespace detail {

// The one pending answer behind every copy of a reply. The call pointer is
// swapped out atomically by whoever answers first, so completion happens
// at most once whatever the threads do. If the last copy goes away
// unanswered, the request gets EIO rather than waiting for ever.
class reply_state {
 public:
  reply_state(bentos_call* call, host_handle host) noexcept : call_(call), host_(host) {}
  reply_state(const reply_state&) = delete;
  reply_state& operator=(const reply_state&) = delete;
  ~reply_state() {
    if (bentos_call* call = take()) {
      host_.log(log_level::warn, "a reply was dropped without an answer; answering EIO");
      host_.services()->complete_error(call, -EIO);
    }
  }
  bentos_call* take() noexcept { return call_.exchange(nullptr); }
  bool done() const noexcept { return call_.load() == nullptr; }
  const bentos_host_services* services() const noexcept { return host_.services(); }

 private:
  std::atomic<bentos_call*> call_;
  host_handle host_;
};

}  // namespace detail

// The answer to one asynchronous request. Copies share one answer: the
// first send() or fail() from any copy, on any thread, completes it; later
// ones return -ESTALE and do nothing (so does a moved-from reply). Answer
// (or drop) every reply before the driver's destructor returns.
class reply {
 public:
  explicit reply(std::shared_ptr<detail::reply_state> state) noexcept : state_(std::move(state)) {}

  int32_t send(const void* data, size_t len) const noexcept {
    bentos_call* call = state_ ? state_->take() : nullptr;
    return call ? state_->services()->complete_bytes(call, data, len) : -ESTALE;
  }
  int32_t send(std::string_view bytes) const noexcept { return send(bytes.data(), bytes.size()); }
  // errno_value is positive (EINVAL); a negative one is accepted as well.
  int32_t fail(int errno_value) const noexcept {
    bentos_call* call = state_ ? state_->take() : nullptr;
    int32_t e = errno_value > 0 ? errno_value : errno_value < 0 ? -errno_value : EIO;
    return call ? state_->services()->complete_error(call, -e) : -ESTALE;
  }
  int32_t fail(const error::driver_error& e) const noexcept { return fail(e.code()); }
  bool done() const noexcept { return !state_ || state_->done(); }

 private:
  std::shared_ptr<detail::reply_state> state_;
};

// A host timer (timer_start/timer_stop) that runs a callable on the loop
// thread after delay_ms, then every repeat_ms when repeat_ms > 0:
//
//   ticks_ = bentos::timer(host, 1000, 1000, [this] { ... });
//   ticks_.stop();
//
// Owned by the driver (usually a member of the driver or of a session
// state); loop thread only: construct, stop, assign and destroy it from a
// callback or a timer's function, never from a thread of your own. A
// callback runs on the loop only while the device has no workers, so a
// driver that uses timers from its callbacks declares
// `static constexpr bool loop_only = true;` and the host refuses it the
// manifest's "threads" / "executor": "worker". Stopping
// or destroying it guarantees the function does not run again. The
// function may stop, restart or reassign its own timer. Exceptions it
// throws are logged and dropped. The host also stops every timer before
// destroy, so a timer that outlives its instance's callbacks is harmless.
class timer {
 public:
  timer() noexcept = default;
  // Throws bentos::error::io when the host cannot start a timer.
  timer(host_handle host, uint64_t delay_ms, uint64_t repeat_ms, std::function<void()> fn)
      : ctx_(std::make_shared<context>(host, repeat_ms > 0, std::move(fn))) {
    ctx_->id = host.services()->timer_start(host.raw_host(), delay_ms, repeat_ms, &context::fire, ctx_.get());
    if (ctx_->id == 0) {
      ctx_.reset();
      throw error::io("the host could not start a timer");
    }
  }
  timer(timer&& other) noexcept : ctx_(std::move(other.ctx_)) {}
  timer& operator=(timer&& other) noexcept {
    if (this != &other) {
      stop();
      ctx_ = std::move(other.ctx_);
    }
    return *this;
  }
  timer(const timer&) = delete;
  timer& operator=(const timer&) = delete;
  ~timer() { stop(); }

  void stop() noexcept {
    if (!ctx_) return;
    if (ctx_->id != 0) ctx_->host.services()->timer_stop(ctx_->host.raw_host(), ctx_->id);
    ctx_->id = 0;
    ctx_.reset();  // a running fire() keeps its own reference
  }
  // True until stopped, or until a one-shot timer has fired.
  bool active() const noexcept { return ctx_ && ctx_->id != 0; }

 private:
  // What the host's timer points at. Shared so that the function being
  // run stays alive even if it stops or replaces its own timer.
  struct context : std::enable_shared_from_this<context> {
    context(host_handle h, bool repeat, std::function<void()> f) : host(h), repeating(repeat), fn(std::move(f)) {}
    static void fire(void* arg) noexcept {
      std::shared_ptr<context> self = static_cast<context*>(arg)->shared_from_this();
      if (self->id == 0) return;                // stopped meanwhile
      if (!self->repeating) self->id = 0;       // the host forgot a one-shot timer
      try {
        self->fn();
      } catch (const std::exception& e) {
        self->host.log(log_level::error, std::string("timer: unexpected exception: ") + e.what());
      } catch (...) {
        self->host.log(log_level::error, "timer: unexpected non-standard exception");
      }
    }
    host_handle host;
    bool repeating;
    uint64_t id = 0;
    std::function<void()> fn;
  };
  std::shared_ptr<context> ctx_;
};

}  // namespace bentos
