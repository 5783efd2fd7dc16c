/*
 * bentos/driver/adapter.hpp - part of the C++ authoring layer (bentos/driver.hpp).
 * Adapter machinery shared by every pattern: the exception barrier, the
 * instance box, create/destroy, sessions, the descriptor and the entry macro.
 */
#pragma once

#include "bentos/driver.h"
#include "bentos/driver/errors.hpp"
#include "bentos/driver/device_config.hpp"
#include "bentos/driver/host.hpp"
#include "bentos/driver/hook_check.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <iterator>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace bentos {

// The session state of a driver that declares none.
struct no_session {};

namespace detail {

inline void copy_message(char* buf, uint64_t len, std::string_view message) noexcept {
  if (!buf || len == 0) return;
  size_t n = message.size() < len - 1 ? message.size() : static_cast<size_t>(len - 1);
  std::memcpy(buf, message.data(), n);
  buf[n] = '\0';
}

// The exception barrier: runs f() (which returns 0 or a negative errno) and
// turns whatever it throws into a negative errno. A driver_error is an
// expected outcome and is not logged; anything else is a driver bug, logged
// at error level and answered EIO. When errbuf is given (create), the
// message is copied there for the host to report.
template <class F>
int32_t guarded(const host_handle& host, const char* where, F&& f, char* errbuf = nullptr,
                uint64_t errlen = 0) noexcept {
  try {
    return f();
  } catch (const error::driver_error& e) {
    copy_message(errbuf, errlen, e.what());
    return -e.code();
  } catch (const std::exception& e) {
    copy_message(errbuf, errlen, e.what());
    try {
      host.log(log_level::error, std::string(where) + ": unexpected exception: " + e.what());
    } catch (...) {
    }
  } catch (...) {
    copy_message(errbuf, errlen, "unexpected non-standard exception");
    host.log(log_level::error, "unexpected non-standard exception");
  }
  return -EIO;
}

// Runs a decoder of client bytes (a config codec's apply, decode_input):
// whatever it throws other than a driver_error or std::bad_alloc means the
// bytes were malformed (std::out_of_range from in.at(3) on a short
// payload, a JSON parse error), so it becomes EINVAL, not EIO
// (docs/patterns.md §1, rule 9). Returns what f returns.
template <class F>
decltype(auto) decoding(const char* where, F&& f) {
  try {
    return f();
  } catch (const error::driver_error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    throw error::invalid_argument(std::string(where) + ": malformed input: " + e.what());
  } catch (...) {
    throw error::invalid_argument(std::string(where) + ": malformed input");
  }
}

// Builds the driver from whichever constructor it has, most specific first.
template <class D>
D construct_driver(const device_config& config, host_handle host) {
  if constexpr (std::is_constructible_v<D, const device_config&, host_handle>) {
    return D(config, host);
  } else if constexpr (std::is_constructible_v<D, const device_config&>) {
    return D(config);
  } else {
    static_assert(std::is_default_constructible_v<D>,
                  "a driver needs a constructor (const bentos::device_config&, bentos::host_handle)");
    return D();
  }
}

// What create() allocates: the driver plus its host handle. Owned by the
// host between create and destroy; touched only from driver callbacks.
template <class D>
struct instance {
  instance(const device_config& config, host_handle h) : host(h), driver(construct_driver<D>(config, h)) {}
  host_handle host;
  D driver;
};

template <class D>
instance<D>& unbox(void* p) noexcept { return *static_cast<instance<D>*>(p); }

// create and destroy, the same for every pattern.
template <class D>
struct lifecycle {
  static int32_t create(bentos_host* host, const bentos_host_services* services, const char* json,
                        uint64_t json_len, void** out, char* errbuf, uint64_t errlen) noexcept {
    host_handle h(host, services);
    return guarded(
        h, "create",
        [&] {
          device_config config(std::string(json ? json : "", json ? json_len : 0));
          *out = new instance<D>(config, h);
          return 0;
        },
        errbuf, errlen);
  }
  static void destroy(void* p) noexcept {
    host_handle h = unbox<D>(p).host;
    guarded(h, "destroy", [&] { return delete &unbox<D>(p), 0; });
  }
};

// Session support for P1, P2 and P4: `using session_type = S;` in the
// driver gives each open file an S, built from (const session_info&) if S
// has such a constructor, else default-built. Optional hooks:
//   void on_session_start(S&, const bentos::session_info&);  // may throw
//   void on_session_end(S&);
template <class D>
struct session_type_of {
  using type = no_session;
};
template <class D>
  requires requires { typename D::session_type; }
struct session_type_of<D> {
  using type = typename D::session_type;
};

// Builds a session state S from the most specific constructor it has:
// (const session_info&, extra...), then (extra...), then (const
// session_info&), then the default. `extra` is what a pattern offers on top
// (P1: the session's bentos::stream_output). Returned as a prvalue, so S
// needs no copy or move constructor.
template <class S, class... Extra>
S build_state(const session_info& info, const Extra&... extra) {
  if constexpr (sizeof...(Extra) > 0 && std::is_constructible_v<S, const session_info&, const Extra&...>) {
    return S(info, extra...);
  } else if constexpr (sizeof...(Extra) > 0 && std::is_constructible_v<S, const Extra&...>) {
    return S(extra...);
  } else if constexpr (std::is_constructible_v<S, const session_info&>) {
    return S(info);
  } else {
    static_assert(std::is_default_constructible_v<S>,
                  "a session_type needs a constructor from (const bentos::session_info&) or a default one");
    return S();
  }
}

template <class D>
struct sessions {
  using S = typename session_type_of<D>::type;
  static constexpr bool has_start = requires(D& d, S& s, const session_info& i) { d.on_session_start(s, i); };
  static constexpr bool has_end = requires(D& d, S& s) { d.on_session_end(s); };
  // A driver with no session type and no hooks needs no session callbacks.
  static constexpr bool used = !std::is_same_v<S, no_session> || has_start || has_end;

  static int32_t start(void* inst, const bentos_session_info* info, void** state) noexcept {
    auto& box = unbox<D>(inst);
    return guarded(box.host, "session_start", [&] {
      std::unique_ptr<S> s(new S(build_state<S>(*info)));
      if constexpr (has_start) box.driver.on_session_start(*s, *info);
      *state = s.release();
      return 0;
    });
  }
  static void end(void* inst, void* state) noexcept {
    auto& box = unbox<D>(inst);
    std::unique_ptr<S> s(static_cast<S*>(state));
    guarded(box.host, "session_end", [&] {
      if constexpr (has_end) box.driver.on_session_end(*s);
      return 0;
    });
  }
  // The state a callback sees; a session-less driver gets a shared dummy.
  static S& get(void* state) noexcept {
    if constexpr (std::is_same_v<S, no_session>) {
      static no_session none;
      return state ? *static_cast<S*>(state) : none;
    } else {
      return *static_cast<S*>(state);
    }
  }
};

// Sessions whose state is a Box: the driver's S (member `state`) next to
// what the adapter keeps per session (P1: the output handle; P4: the
// stream in flight). Box is built from (const session_info&, host_handle).
// Used by patterns that always need per-session adapter state, so the
// session callbacks are never NULL. The hooks are those of sessions<D>.
template <class D, class Box>
struct boxed_sessions {
  using hooks = sessions<D>;

  static int32_t start(void* inst, const bentos_session_info* info, void** state) noexcept {
    auto& box = unbox<D>(inst);
    return guarded(box.host, "session_start", [&] {
      std::unique_ptr<Box> b(new Box(*info, box.host));
      if constexpr (hooks::has_start) box.driver.on_session_start(b->state, *info);
      *state = b.release();
      return 0;
    });
  }
  static void end(void* inst, void* state) noexcept {
    auto& box = unbox<D>(inst);
    std::unique_ptr<Box> b(static_cast<Box*>(state));
    guarded(box.host, "session_end", [&] {
      if constexpr (hooks::has_end) box.driver.on_session_end(b->state);
      return 0;
    });
  }
  static Box& get(void* state) noexcept { return *static_cast<Box*>(state); }
};

// Optional arguments. Every pattern callback may be written with or without
// the session state as its first parameter; a caller object C (call_on_read
// and the like, below) names one driver member function, and these pick the
// form the driver has.
template <class C, class D, class S, class... A>
inline constexpr bool has_form = std::is_invocable_v<C, D&, S&, A...> || std::is_invocable_v<C, D&, A...>;

template <class C, class D, class S, class... A>
decltype(auto) invoke_form(D& d, S& s, A&&... a) {
  if constexpr (std::is_invocable_v<C, D&, S&, A...>) {
    return C{}(d, s, std::forward<A>(a)...);
  } else {
    return C{}(d, std::forward<A>(a)...);
  }
}

// Function objects calling d.member(args...), usable in is_invocable
// (SFINAE-friendly through their return types): call_on_read{}(d, ...).
// One per callback name of every pattern, all here so that no two pattern
// files can define the same one.
#define BENTOS_DETAIL_CALLER(member)                                                       \
  struct call_##member {                                                                   \
    template <class D, class... A>                                                         \
    auto operator()(D& d, A&&... a) const -> decltype(d.member(std::forward<A>(a)...)) {  \
      return d.member(std::forward<A>(a)...);                                              \
    }                                                                                      \
  }
BENTOS_DETAIL_CALLER(on_open);        // raw
BENTOS_DETAIL_CALLER(on_read);        // raw
BENTOS_DETAIL_CALLER(on_write);       // raw
BENTOS_DETAIL_CALLER(on_ioctl);       // raw
BENTOS_DETAIL_CALLER(on_poll);        // raw
BENTOS_DETAIL_CALLER(on_flush);       // raw
BENTOS_DETAIL_CALLER(on_fsync);       // raw
BENTOS_DETAIL_CALLER(on_release);     // raw
BENTOS_DETAIL_CALLER(on_data);        // P1
BENTOS_DETAIL_CALLER(on_writable);    // P1, P4 (ABI 1.1)
BENTOS_DETAIL_CALLER(on_activate);    // P3
BENTOS_DETAIL_CALLER(on_deactivate);  // P3
BENTOS_DETAIL_CALLER(apply);          // P4
BENTOS_DETAIL_CALLER(process);        // P4
BENTOS_DETAIL_CALLER(decode_input);   // P4
BENTOS_DETAIL_CALLER(encode_output);  // P4
BENTOS_DETAIL_CALLER(on_query);       // P4
BENTOS_DETAIL_CALLER(on_cancel);      // P4
BENTOS_DETAIL_CALLER(on_drain);       // P4
#undef BENTOS_DETAIL_CALLER

// `static constexpr bentos_threading threading = BENTOS_THREADING_WORKER;`
// in the driver asks for host worker threads; the default is the loop.
// `static constexpr bool loop_only = true;` (or threading =
// BENTOS_THREADING_LOOP_ONLY) pins the driver to the loop thread: the host
// then refuses a manifest that asks for workers. Declare it when the
// driver's callbacks share unlocked state with bentos::timer functions
// (which always run on the loop), as the ticker and synth examples do.
template <class D>
constexpr uint32_t threading_of() {
  constexpr bool pinned = [] {
    if constexpr (requires { D::loop_only; }) return static_cast<bool>(D::loop_only);
    return false;
  }();
  if constexpr (requires { D::threading; }) {
    static_assert(!pinned || static_cast<uint32_t>(D::threading) != BENTOS_THREADING_WORKER,
                  "loop_only = true contradicts threading = BENTOS_THREADING_WORKER: keep one");
    if constexpr (!pinned) return static_cast<uint32_t>(D::threading);
  }
  return pinned ? BENTOS_THREADING_LOOP_ONLY : BENTOS_THREADING_LOOP;
}

// Each pattern adapter A provides: pattern, create, destroy, ops (constexpr).
template <class A>
constexpr bentos_driver make_descriptor(const char* name, const char* version, const char* description) {
  static_assert(A::checked, "the driver class failed the hook checks above");
  bentos_driver d{};
  d.struct_size = sizeof(bentos_driver);
  d.abi_major = BENTOS_ABI_MAJOR;
  d.abi_minor = BENTOS_ABI_MINOR;
  d.pattern = A::pattern;
  d.name = name;
  d.version = version;
  d.description = description;
  d.threading = A::threading;
  d.create = &A::create;
  d.destroy = &A::destroy;
  d.ops = &A::ops;
  return d;
}

template <class>
inline constexpr bool always_false = false;

// A contiguous range of 1-byte elements (std::string, std::vector<uint8_t>...).
template <class T>
concept byte_range = requires(const T& t) {
  std::data(t);
  std::size(t);
} && sizeof(std::remove_cvref_t<decltype(*std::data(std::declval<const T&>()))>) == 1;

// The bytes a synchronous hook answered with (on_request, on_read,
// on_query): std::string, std::string_view, const char* (NUL terminated;
// nullptr is empty) or any byte_range. A view of `out`, so use it within
// the full expression that made `out`.
template <class T>
std::string_view returned_bytes(const T& out) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    if constexpr (std::is_pointer_v<T>) {
      if (!out) return {};
    }
    return std::string_view(out);
  } else if constexpr (byte_range<T>) {
    return {reinterpret_cast<const char*>(std::data(out)), std::size(out)};
  } else {
    static_assert(always_false<T>,
                  "a hook's answer must be bytes: return std::string, std::string_view, const char* or a "
                  "contiguous range of bytes (std::vector<uint8_t>)");
    return {};
  }
}

}  // namespace detail

// The exported entry for adapter A. Every BENTOS_*_DRIVER macro ends here.
// The trailing redeclaration of the entry makes the macro take a ';' like a
// declaration.
#define BENTOS_DETAIL_DRIVER_ENTRY(Adapter, name, version, description)                  \
  extern "C" BENTOS_EXPORT const bentos_driver* bentos_driver_entry_v1(uint32_t, uint32_t) { \
    static constexpr bentos_driver descriptor =                                          \
        ::bentos::detail::make_descriptor<Adapter>(name, version, description);          \
    return &descriptor;                                                                  \
  }                                                                                      \
  extern "C" BENTOS_EXPORT const bentos_driver* bentos_driver_entry_v1(uint32_t, uint32_t)

}  // namespace bentos
