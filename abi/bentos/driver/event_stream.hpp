/*
 * bentos/driver/event_stream.hpp - part of the C++ authoring layer (bentos/driver.hpp).
 * Event stream (P3): bentos::event_emitter<E>, BENTOS_EVENT_STREAM_DRIVER.
 */
#pragma once

#include "bentos/driver.h"
#include "bentos/driver/adapter.hpp"

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace bentos {

// Typed events: an encoder (Event -> bytes) plus the host's emit. Built
// once, usually in the driver's constructor:
//
//   struct tick { uint64_t n; };
//   static std::string encode_event(const tick& t);
//   bentos::event_emitter<tick> events_{host, &Ticker::encode_event};
//   events_.emit(tick{n});
//
// Copies share the encoder. emit() may be called from any thread, as long
// as the encoder may (a pure function is); the driver must stop its emitters'
// threads before its destructor returns.
template <class Event>
class event_emitter {
 public:
  using encoder = std::function<std::string(const Event&)>;

  event_emitter(host_handle host, encoder encode)
      : host_(host), encode_(std::make_shared<const encoder>(std::move(encode))) {}

  // Encodes and emits one event: 0, or a negative errno (an encoder that
  // throws bentos::error::* gives that errno; anything else EIO, logged).
  // Never throws.
  int32_t emit(const Event& event) const noexcept {
    std::string bytes;
    int32_t rc = detail::guarded(host_, "encode_event", [&] {
      bytes = (*encode_)(event);
      return 0;
    });
    return rc < 0 ? rc : host_.emit(bytes);
  }
  int32_t emit_bytes(std::string_view bytes) const noexcept { return host_.emit(bytes); }

 private:
  host_handle host_;
  std::shared_ptr<const encoder> encode_;
};

// An event-stream driver D may have (both optional; the host's default is
// success):
//
//   void on_activate();    // the first listener opened; throw to fail that open (EIO)
//   void on_deactivate();  // the last listener is gone (a throw is only logged)
//
// Events go out through bentos::host_handle::emit(bytes) or an
// event_emitter, from any thread, active or not (emitting with no listener
// does nothing). Listeners see only events emitted after they opened.
// P3 has no per-session state: the host keeps the listeners. Callbacks run
// on the loop thread (or host workers when D or the manifest asks for
// them); on the loop, on_activate may start host timers (bentos::timer).
// A mistake in these (a misspelled hook, another pattern's hook, a form
// the layer cannot call, no hook at all) fails the build:
// bentos/driver/hook_check.hpp.
namespace detail {

template <class D>
struct event_stream_adapter : lifecycle<D> {
  static constexpr uint32_t pattern = BENTOS_PATTERN_EVENT_STREAM;
  static constexpr uint32_t threading = threading_of<D>();
  static constexpr bool has_activate = std::is_invocable_v<call_on_activate, D&>;
  static constexpr bool has_deactivate = std::is_invocable_v<call_on_deactivate, D&>;
  static constexpr bool checked = [] {
    static_assert(has_activate || has_deactivate || hook_check::own_hooks_EVENT_STREAM<D>() > 0,
                  "the driver class has no hook: " BENTOS_DETAIL_ACCEPTS_EVENT_STREAM);
    static_assert(has_activate || !BENTOS_DETAIL_NAMED(D, on_activate),
                  "on_activate cannot be called: write `void on_activate()`, public");
    static_assert(has_deactivate || !BENTOS_DETAIL_NAMED(D, on_deactivate),
                  "on_deactivate cannot be called: write `void on_deactivate()`, public");
    return BENTOS_DETAIL_NAME_CHECKS_FOR(EVENT_STREAM, D);
  }();

  static int32_t on_activate(void* inst) noexcept {
    auto& box = unbox<D>(inst);
    return guarded(box.host, "on_activate", [&] {
      if constexpr (has_activate) box.driver.on_activate();
      return 0;
    });
  }
  static int32_t on_deactivate(void* inst) noexcept {
    auto& box = unbox<D>(inst);
    return guarded(box.host, "on_deactivate", [&] {
      if constexpr (has_deactivate) box.driver.on_deactivate();
      return 0;
    });
  }

  static constexpr bentos_event_stream_ops ops = {
      sizeof(bentos_event_stream_ops),
      0,
      has_activate ? &on_activate : nullptr,
      has_deactivate ? &on_deactivate : nullptr,
  };
};

}  // namespace detail

#define BENTOS_EVENT_STREAM_DRIVER(Class, name, version, description) \
  BENTOS_DETAIL_DRIVER_ENTRY(::bentos::detail::event_stream_adapter<Class>, name, version, description)

}  // namespace bentos
