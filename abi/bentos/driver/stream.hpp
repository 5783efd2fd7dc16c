/*
 * bentos/driver/stream.hpp - part of the C++ authoring layer (bentos/driver.hpp).
 * Pure stream (P1): bentos::stream_output, BENTOS_STREAM_DRIVER.
 */
#pragma once

#include "bentos/driver.h"
#include "bentos/driver/adapter.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace bentos {

enum class push_result {
  ok,           // queued; readers of the session will get it
  would_block,  // the session's queue is full; nothing queued, on_writable follows
  closed,       // the session ended, or its output was ended (end()); nothing queued
};

// The output side of one P1 session: what its readers will read. Two
// pointers, cheap to copy; every copy pushes into the same session. Any
// member may be called from any thread, at any time: after the session
// ends, push() answers `closed` and does nothing, so a thread that still
// holds a copy is harmless.
class stream_output {
 public:
  stream_output() noexcept = default;
  stream_output(bentos_session* session, const bentos_host_services* services) noexcept
      : session_(session), services_(services) {}

  // A push queues the whole chunk or nothing (see push_result).
  push_result push(const void* data, size_t len) const noexcept {
    int32_t rc = push_errno(data, len);
    return rc == 0 ? push_result::ok : rc == -EAGAIN ? push_result::would_block : push_result::closed;
  }
  push_result push(std::string_view bytes) const noexcept { return push(bytes.data(), bytes.size()); }
  // The service's own answer: 0, -EAGAIN, -ESTALE, or another -errno.
  int32_t push_errno(const void* data, size_t len) const noexcept {
    return services_ ? services_->push(session_, data, len) : -ESTALE;
  }

  // Ends this session's output (ABI 1.1): readers drain what is queued,
  // then get EOF, or `errno_value` (positive or negative, sticky) when it
  // is not 0; later writes answer EPIPE and pushes `closed`. 0, -EALREADY
  // (ended before), -ESTALE (the session ended), or -ENOSYS on a 1.0 host
  // that lacks the service (check has_end() to adapt).
  int32_t end(int errno_value = 0) const noexcept {
    if (!has_end()) return -ENOSYS;
    return services_->end_output(session_, errno_value > 0 ? -errno_value : errno_value);
  }
  int32_t fail(const error::driver_error& e) const noexcept { return end(e.code()); }
  // The host has end_output (ABI 1.1 or newer).
  bool has_end() const noexcept { return services_ && BENTOS_HAS_SERVICE(services_, end_output); }

  bentos_session* raw_session() const noexcept { return session_; }

 private:
  bentos_session* session_ = nullptr;
  const bentos_host_services* services_ = nullptr;
};

// A stream driver D has on_data in one of these forms (S is
// D::session_type, see adapter.hpp; every form may drop the leading S&):
//
//   size_t on_data(S&, std::string_view data);
//   size_t on_data(S&, std::string_view data, bentos::stream_output out);
//   void   on_data(S&, std::string_view data [, bentos::stream_output out]);
//
// It returns how many bytes it consumed (the writer's count; fewer than
// data.size() is a short write, more is cut to data.size(), a negative
// value is a -errno as in the C ABI); the void forms consume everything. It may throw bentos::error::* (the write fails with
// that errno) or anything else (EIO, logged). Output goes through
// stream_output::push, now or later, from any thread. Optional:
//
//   void on_writable(S& [, bentos::stream_output out]);  // a refused push has room again
//   void on_session_start(S&, const bentos::session_info&);
//   void on_session_end(S&);
//
// S may take the session's output in its constructor: S(const
// bentos::session_info&, bentos::stream_output) or S(bentos::stream_output)
// are used when present, before S(const bentos::session_info&) and S().
// Callbacks run on the loop thread (or host workers when D asks for them),
// one at a time per session. A mistake in these (a misspelled hook,
// another pattern's hook, a form the layer cannot call) fails the build:
// bentos/driver/hook_check.hpp.
namespace detail {

// A negative count from on_data, as a -errno the C ABI can carry.
inline int32_t negative_errno(int64_t n) noexcept { return n >= -4095 ? static_cast<int32_t>(n) : -EIO; }

// Per-session state: the session's output, then the driver's S. Owned by
// the host's session (session_start to session_end); callbacks only.
template <class S>
struct stream_box {
  stream_box(const session_info& info, host_handle host)
      : out(info.session, host.services()), state(build_state<S>(info, out)) {}
  stream_output out;
  S state;
};

template <class D>
struct stream_adapter : lifecycle<D> {
  using S = typename session_type_of<D>::type;
  using box_t = stream_box<S>;
  using sess = boxed_sessions<D, box_t>;
  static constexpr uint32_t pattern = BENTOS_PATTERN_STREAM;
  static constexpr uint32_t threading = threading_of<D>();

  static constexpr bool data_with_output = has_form<call_on_data, D, S, std::string_view, stream_output>;
  static constexpr bool data_plain = has_form<call_on_data, D, S, std::string_view>;
  static constexpr bool writable_with_output = has_form<call_on_writable, D, S, stream_output>;
  static constexpr bool writable_plain = has_form<call_on_writable, D, S>;
  static constexpr bool checked = [] {
    static_assert(data_with_output || data_plain || BENTOS_DETAIL_NAMED(D, on_data),
                  "the driver class has no on_data: " BENTOS_DETAIL_ACCEPTS_STREAM);
    static_assert(data_with_output || data_plain || !BENTOS_DETAIL_NAMED(D, on_data),
                  "on_data cannot be called: write `size_t on_data([S&,] std::string_view [, "
                  "bentos::stream_output])` (or void), public");
    static_assert(writable_with_output || writable_plain || !BENTOS_DETAIL_NAMED(D, on_writable),
                  "on_writable cannot be called: write `void on_writable([S&] [, bentos::stream_output])`, public");
    static_assert(sess::hooks::has_start || !BENTOS_DETAIL_NAMED(D, on_session_start),
                  "on_session_start cannot be called: write `void on_session_start(S&, const bentos::session_info&)`, public");
    static_assert(sess::hooks::has_end || !BENTOS_DETAIL_NAMED(D, on_session_end),
                  "on_session_end cannot be called: write `void on_session_end(S&)`, public");
    return BENTOS_DETAIL_NAME_CHECKS_FOR(STREAM, D);
  }();

  static int64_t on_data(void* inst, void* state, const uint8_t* data, uint64_t len) noexcept {
    auto& box = unbox<D>(inst);
    box_t& b = sess::get(state);
    std::string_view in(reinterpret_cast<const char*>(data), data ? len : 0);
    int64_t consumed = 0;
    int32_t rc = guarded(box.host, "on_data", [&] {
      auto call = [&] {
        if constexpr (data_with_output) {
          return invoke_form<call_on_data>(box.driver, b.state, in, b.out);
        } else {
          return invoke_form<call_on_data>(box.driver, b.state, in);
        }
      };
      if constexpr (std::is_void_v<decltype(call())>) {
        call();
        consumed = static_cast<int64_t>(in.size());
      } else {
        auto n = call();
        static_assert(std::is_integral_v<decltype(n)>, "on_data returns the number of bytes consumed");
        if constexpr (std::is_signed_v<decltype(n)>) {
          if (n < 0) return negative_errno(n);  // the C convention
        }
        uint64_t u = static_cast<uint64_t>(n);
        consumed = static_cast<int64_t>(u < in.size() ? u : in.size());
      }
      return 0;
    });
    return rc < 0 ? rc : consumed;
  }

  static void on_writable(void* inst, void* state) noexcept {
    auto& box = unbox<D>(inst);
    box_t& b = sess::get(state);
    guarded(box.host, "on_writable", [&] {
      if constexpr (writable_with_output) {
        invoke_form<call_on_writable>(box.driver, b.state, b.out);
      } else if constexpr (writable_plain) {
        invoke_form<call_on_writable>(box.driver, b.state);
      }
      return 0;
    });
  }

  static constexpr bentos_stream_ops ops = {
      sizeof(bentos_stream_ops),
      0,
      &sess::start,
      &sess::end,
      &on_data,
      writable_with_output || writable_plain ? &on_writable : nullptr,
  };
};

}  // namespace detail

#define BENTOS_STREAM_DRIVER(Class, name, version, description) \
  BENTOS_DETAIL_DRIVER_ENTRY(::bentos::detail::stream_adapter<Class>, name, version, description)

}  // namespace bentos
