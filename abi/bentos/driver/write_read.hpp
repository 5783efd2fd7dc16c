/*
 * bentos/driver/write_read.hpp - part of the C++ authoring layer (bentos/driver.hpp).
 * Write-read (P2): BENTOS_WRITE_READ_DRIVER.
 */
#pragma once

#include "bentos/driver.h"
#include "bentos/driver/adapter.hpp"

#include <cerrno>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace bentos {

// A write-read driver D has one of these (the first that fits is used):
//   void        on_request(S& session, std::string_view request, bentos::reply r);
//   void        on_request(std::string_view request, bentos::reply r);
//   std::string on_request(S& session, std::string_view request);
//   std::string on_request(std::string_view request);
// The request may also be taken as a std::string (by value or reference:
// the layer passes a copy). The synchronous forms return the response:
// std::string, std::string_view, const char* or any contiguous range of
// bytes; the asynchronous forms answer through `r`, now or later, from any
// thread. Both may throw bentos::error::* for a failure.
// Callbacks run on the loop thread (or on host workers when D asks for
// them), one request at a time per session; the host never overlaps two
// requests of one session, but different sessions may run concurrently in
// worker mode. A mistake in these (a misspelled hook, a P3 hook here, a
// form the layer cannot call) fails the build: bentos/driver/hook_check.hpp.
namespace detail {

template <class D>
struct write_read_adapter : lifecycle<D> {
  using sess = sessions<D>;
  using S = typename sess::S;
  static constexpr uint32_t pattern = BENTOS_PATTERN_WRITE_READ;
  static constexpr uint32_t threading = threading_of<D>();

  // Which on_request form D has, for a request type Q (std::string_view,
  // else a std::string lvalue); std::declval<reply>() accepts by-value,
  // const& and && parameters alike.
  template <class Q>
  static constexpr bool async_with_session =
      requires(D& d, S& s, Q q) { d.on_request(s, q, std::declval<reply>()); };
  template <class Q>
  static constexpr bool async_plain = requires(D& d, Q q) { d.on_request(q, std::declval<reply>()); };
  template <class Q>
  static constexpr bool sync_with_session = requires(D& d, S& s, Q q) { d.on_request(s, q); };
  template <class Q>
  static constexpr bool sync_plain = requires(D& d, Q q) { d.on_request(q); };
  template <class Q>
  static constexpr bool any_form = async_with_session<Q> || async_plain<Q> || sync_with_session<Q> || sync_plain<Q>;
  // The request type to pass: a view, or (for on_request(std::string)) a copy.
  using request_t = std::conditional_t<any_form<std::string_view>, std::string_view, std::string&>;
  static constexpr bool has_request = any_form<request_t>;

  static constexpr bool checked = [] {
    static_assert(has_request || hook_check::own_hooks_WRITE_READ<D>() > 0,
                  "the driver class has no on_request: " BENTOS_DETAIL_ACCEPTS_WRITE_READ);
    static_assert(has_request || !BENTOS_DETAIL_NAMED(D, on_request),
                  "on_request cannot be called: write `std::string on_request([S&,] std::string_view)` or "
                  "`void on_request([S&,] std::string_view, bentos::reply)`, public");
    static_assert(sess::has_start || !BENTOS_DETAIL_NAMED(D, on_session_start),
                  "on_session_start cannot be called: write `void on_session_start(S&, const bentos::session_info&)`, public");
    static_assert(sess::has_end || !BENTOS_DETAIL_NAMED(D, on_session_end),
                  "on_session_end cannot be called: write `void on_session_end(S&)`, public");
    return BENTOS_DETAIL_NAME_CHECKS_FOR(WRITE_READ, D);
  }();

  static int32_t complete(const host_handle& h, bentos_call* call, std::string_view out) {
    h.services()->complete_bytes(call, out.data(), out.size());
    return 0;
  }

  static int32_t on_request(void* inst, void* state, bentos_call* call, const uint8_t* data,
                            uint64_t len) noexcept {
    auto& box = unbox<D>(inst);
    D& d = box.driver;
    std::string_view view(reinterpret_cast<const char*>(data), data ? len : 0);
    using Q = request_t;
    if constexpr (async_with_session<Q> || async_plain<Q>) {
      // The adapter keeps its own reference so that, if the driver throws,
      // it can still tell whether the reply was answered before the throw.
      std::shared_ptr<reply_state> st;
      int32_t rc = guarded(box.host, "on_request", [&] {
        st = std::make_shared<reply_state>(call, box.host);
        std::remove_reference_t<Q> req(view);
        if constexpr (async_with_session<Q>) {
          d.on_request(sess::get(state), req, reply(st));
        } else {
          d.on_request(req, reply(st));
        }
        return 0;
      });
      if (rc < 0 && st && !st->take()) return 0;  // answered, then threw: keep the answer
      return rc;
    } else if constexpr (sync_with_session<Q>) {
      return guarded(box.host, "on_request", [&] {
        std::remove_reference_t<Q> req(view);
        return complete(box.host, call, returned_bytes(d.on_request(sess::get(state), req)));
      });
    } else if constexpr (sync_plain<Q>) {
      return guarded(box.host, "on_request", [&] {
        std::remove_reference_t<Q> req(view);
        return complete(box.host, call, returned_bytes(d.on_request(req)));
      });
    } else {
      return -ENOSYS;  // unreachable: `checked` failed the build
    }
  }

  static constexpr bentos_write_read_ops ops = {
      sizeof(bentos_write_read_ops),
      0,
      sess::used ? &sess::start : nullptr,
      sess::used ? &sess::end : nullptr,
      &on_request,
  };
};

}  // namespace detail

#define BENTOS_WRITE_READ_DRIVER(Class, name, version, description) \
  BENTOS_DETAIL_DRIVER_ENTRY(::bentos::detail::write_read_adapter<Class>, name, version, description)

}  // namespace bentos
