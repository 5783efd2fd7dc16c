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
// The synchronous forms return the response (std::string, or any contiguous
// range of bytes); the asynchronous forms answer through `r`, now or later,
// from any thread. Both may throw bentos::error::* for a failure.
// Callbacks run on the loop thread (or on host workers when D asks for
// them), one request at a time per session; the host never overlaps two
// requests of one session, but different sessions may run concurrently in
// worker mode.
namespace detail {

template <class D>
struct write_read_adapter : lifecycle<D> {
  using sess = sessions<D>;
  using S = typename sess::S;
  static constexpr uint32_t pattern = BENTOS_PATTERN_WRITE_READ;
  static constexpr uint32_t threading = threading_of<D>();

  // Which on_request form D has; std::declval<reply>() accepts by-value,
  // const& and && parameters alike.
  static constexpr bool async_with_session =
      requires(D& d, S& s, std::string_view q) { d.on_request(s, q, std::declval<reply>()); };
  static constexpr bool async_plain = requires(D& d, std::string_view q) { d.on_request(q, std::declval<reply>()); };
  static constexpr bool sync_with_session = requires(D& d, S& s, std::string_view q) { d.on_request(s, q); };
  static constexpr bool sync_plain = requires(D& d, std::string_view q) { d.on_request(q); };

  static int32_t complete(const host_handle& h, bentos_call* call, const auto& out) {
    using T = std::remove_cvref_t<decltype(*std::data(out))>;
    static_assert(sizeof(T) == 1, "on_request must return bytes (std::string, std::vector<uint8_t>...)");
    h.services()->complete_bytes(call, std::data(out), std::size(out));
    return 0;
  }

  static int32_t on_request(void* inst, void* state, bentos_call* call, const uint8_t* data,
                            uint64_t len) noexcept {
    auto& box = unbox<D>(inst);
    D& d = box.driver;
    std::string_view req(reinterpret_cast<const char*>(data), data ? len : 0);
    if constexpr (async_with_session || async_plain) {
      // The adapter keeps its own reference so that, if the driver throws,
      // it can still tell whether the reply was answered before the throw.
      std::shared_ptr<reply_state> st;
      int32_t rc = guarded(box.host, "on_request", [&] {
        st = std::make_shared<reply_state>(call, box.host);
        if constexpr (async_with_session) {
          d.on_request(sess::get(state), req, reply(st));
        } else {
          d.on_request(req, reply(st));
        }
        return 0;
      });
      if (rc < 0 && st && !st->take()) return 0;  // answered, then threw: keep the answer
      return rc;
    } else if constexpr (sync_with_session) {
      return guarded(box.host, "on_request", [&] { return complete(box.host, call, d.on_request(sess::get(state), req)); });
    } else if constexpr (sync_plain) {
      return guarded(box.host, "on_request", [&] { return complete(box.host, call, d.on_request(req)); });
    } else {
      static_assert(always_false<D>, "a write-read driver needs on_request (see bentos/driver/write_read.hpp)");
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
