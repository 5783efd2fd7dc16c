/*
 * bentos/driver/raw.hpp - part of the C++ authoring layer (bentos/driver.hpp).
 * Raw layer (L1): every file op by hand, BENTOS_RAW_DRIVER.
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
#include <utility>

namespace bentos {

// The fields of one op, as bentosd sent them. Views are valid only during
// the callback.
struct read_request {
  uint64_t size;   // the reader's buffer: answer at most this many bytes
  int64_t offset;  // meaningless for a character device; for logging
};
struct write_request {
  std::string_view data;
  int64_t offset;
};
struct ioctl_request {
  uint32_t cmd;
  uint32_t flags;
  std::string_view in;
  uint64_t out_size;
};
// A synchronous ioctl answer: the result code and the bytes returned.
struct ioctl_reply {
  int32_t result = 0;
  std::string data;
};

// The answer to one raw op, for a driver that answers later or from another
// thread. Copies share one answer: the first completion from any copy, on
// any thread, answers the op; later ones return -ESTALE and do nothing. Use
// the kind that fits the op (bytes: read; count: write; ok: flush, fsync;
// ioctl; poll; fail: any). If the last copy goes away unanswered, the op is answered EIO.
// Answer (or drop) every raw_call before the driver's destructor returns.
class raw_call {
 public:
  explicit raw_call(std::shared_ptr<detail::reply_state> state) noexcept : state_(std::move(state)) {}

  int32_t bytes(const void* data, size_t len) const noexcept {
    return with([&](bentos_call* c) { return services()->complete_bytes(c, data, len); });
  }
  int32_t bytes(std::string_view data) const noexcept { return bytes(data.data(), data.size()); }
  int32_t ok() const noexcept {
    return with([&](bentos_call* c) { return services()->complete_ok(c); });
  }
  int32_t count(uint64_t n) const noexcept {
    return with([&](bentos_call* c) { return services()->complete_count(c, n); });
  }
  int32_t ioctl(int32_t result, std::string_view data = {}) const noexcept {
    return with([&](bentos_call* c) { return services()->complete_ioctl(c, result, data.data(), data.size()); });
  }
  int32_t poll(uint32_t revents) const noexcept {
    return with([&](bentos_call* c) { return services()->complete_poll(c, revents); });
  }
  // errno_value is positive (EINVAL); a negative one is accepted as well.
  int32_t fail(int errno_value) const noexcept { return reply(state_).fail(errno_value); }
  int32_t fail(const error::driver_error& e) const noexcept { return fail(e.code()); }
  bool done() const noexcept { return !state_ || state_->done(); }

 private:
  const bentos_host_services* services() const noexcept { return state_->services(); }
  template <class F>
  int32_t with(F&& complete) const noexcept {
    bentos_call* call = state_ ? state_->take() : nullptr;
    return call ? complete(call) : -ESTALE;
  }
  std::shared_ptr<detail::reply_state> state_;
};

// A raw driver D may have any of these members; an op whose member is
// missing gets the host's default (open, flush, fsync, release: success;
// read, write, ioctl, poll: ENOSYS). Every form may also be written
// without the leading `S&` (S is D::session_type, see adapter.hpp):
//
//   void        on_open(S&, const bentos::session_info&);    // throw to refuse
//   std::string on_read(S&, const bentos::read_request&);    // at most size bytes (or
//                                                            // string_view, const char*, bytes)
//   uint64_t    on_write(S&, const bentos::write_request&);  // the count written
//   bentos::ioctl_reply on_ioctl(S&, const bentos::ioctl_request&);
//   uint32_t    on_poll(S&, uint32_t events);                // revents
//   void        on_flush(S&);
//   void        on_fsync(S&, bool datasync);
//   void        on_release(S&, int32_t flags);               // then S is freed
//
// Every op but open and release may instead be asynchronous: `void
// on_read(S&, const bentos::read_request&, bentos::raw_call call)` and so
// on, answering through `call` now or later, from any thread (flush and
// fsync with call.ok()). Synchronous ops answer when their member returns.
// Any member may throw bentos::error::* (that errno) or anything else (EIO,
// logged).
//
// A synchronous on_read may return more than `size` bytes: the layer sends
// the first `size`. S is created before on_open and freed after on_release
// (or when on_open throws); the host calls release exactly once per open
// that succeeded, even when the connection dies.
//
// Callbacks run on the loop thread (or host workers when D asks for them).
// The host never runs two ops of one session at once on the loop; on
// workers, keep shared state behind a lock. on_session_start and
// on_session_end belong to the other patterns: here on_open and
// on_release play that part. A mistake in these (a misspelled hook,
// another pattern's hook, a form the layer cannot call, no hook at all)
// fails the build: bentos/driver/hook_check.hpp.
namespace detail {

template <class D>
struct raw_adapter : lifecycle<D> {
  using sess = sessions<D>;
  using S = typename sess::S;
  static constexpr uint32_t pattern = BENTOS_PATTERN_RAW;
  static constexpr uint32_t threading = threading_of<D>();

  template <class C, class... A>
  static constexpr bool async = has_form<C, D, S, const A&..., raw_call>;
  template <class C, class... A>
  static constexpr bool sync = has_form<C, D, S, const A&...>;
  template <class C, class... A>
  static constexpr bool has = async<C, A...> || sync<C, A...>;

  // Runs the member C with `args`: the asynchronous form gets a raw_call
  // sharing `call`; the synchronous form's result goes to answer(result)
  // (or answer() when it returns void).
  template <class C, class Answer, class... A>
  static int32_t run(instance<D>& box, const char* where, void* state, bentos_call* call, Answer&& answer,
                     const A&... args) noexcept {
    S& s = sess::get(state);
    if constexpr (async<C, A...>) {
      // As in P2: keep a reference so that an answer given before a throw
      // is kept rather than replaced by the error.
      std::shared_ptr<reply_state> st;
      int32_t rc = guarded(box.host, where, [&] {
        st = std::make_shared<reply_state>(call, box.host);
        invoke_form<C>(box.driver, s, args..., raw_call(st));
        return 0;
      });
      if (rc < 0 && st && !st->take()) return 0;
      return rc;
    } else if constexpr (sync<C, A...>) {
      return guarded(box.host, where, [&] {
        if constexpr (std::is_void_v<decltype(invoke_form<C>(box.driver, s, args...))>) {
          invoke_form<C>(box.driver, s, args...);
          return answer();
        } else {
          return answer(invoke_form<C>(box.driver, s, args...));
        }
      });
    } else {
      return -ENOSYS;  // not in the ops table; keeps every branch compilable
    }
  }

  static const bentos_host_services* svc(instance<D>& box) noexcept { return box.host.services(); }

  static int32_t open(void* inst, bentos_call* call, const bentos_session_info* info, void** state) noexcept {
    auto& box = unbox<D>(inst);
    return guarded(box.host, "on_open", [&] {
      std::unique_ptr<S> s(new S(build_state<S>(*info)));
      if constexpr (sync<call_on_open, session_info>) invoke_form<call_on_open>(box.driver, *s, *info);
      *state = s.release();
      svc(box)->complete_ok(call);
      return 0;
    });
  }
  static int32_t read(void* inst, void* state, bentos_call* call, uint64_t size, int64_t offset) noexcept {
    auto& box = unbox<D>(inst);
    auto answer = [&](const auto& out) {
      std::string_view bytes = returned_bytes(out);
      uint64_t n = bytes.size() < size ? bytes.size() : size;
      svc(box)->complete_bytes(call, bytes.data(), n);
      return 0;
    };
    return run<call_on_read>(box, "on_read", state, call, answer, read_request{size, offset});
  }
  static int32_t write(void* inst, void* state, bentos_call* call, const uint8_t* data, uint64_t len,
                       int64_t offset) noexcept {
    auto& box = unbox<D>(inst);
    write_request req{{reinterpret_cast<const char*>(data), data ? len : 0}, offset};
    auto answer = [&](uint64_t count) {
      svc(box)->complete_count(call, count);
      return 0;
    };
    return run<call_on_write>(box, "on_write", state, call, answer, req);
  }
  static int32_t ioctl(void* inst, void* state, bentos_call* call, uint32_t cmd, uint32_t flags, const uint8_t* in,
                       uint64_t in_len, uint64_t out_size) noexcept {
    auto& box = unbox<D>(inst);
    ioctl_request req{cmd, flags, {reinterpret_cast<const char*>(in), in ? in_len : 0}, out_size};
    auto answer = [&](const ioctl_reply& r) {
      svc(box)->complete_ioctl(call, r.result, r.data.data(), r.data.size());
      return 0;
    };
    return run<call_on_ioctl>(box, "on_ioctl", state, call, answer, req);
  }
  static int32_t poll(void* inst, void* state, bentos_call* call, uint32_t events) noexcept {
    auto& box = unbox<D>(inst);
    auto answer = [&](uint32_t revents) {
      svc(box)->complete_poll(call, revents);
      return 0;
    };
    return run<call_on_poll>(box, "on_poll", state, call, answer, events);
  }
  static int32_t flush(void* inst, void* state, bentos_call* call) noexcept {
    auto& box = unbox<D>(inst);
    auto answer = [&] {
      svc(box)->complete_ok(call);
      return 0;
    };
    return run<call_on_flush>(box, "on_flush", state, call, answer);
  }
  static int32_t fsync(void* inst, void* state, bentos_call* call, int32_t datasync) noexcept {
    auto& box = unbox<D>(inst);
    auto answer = [&] {
      svc(box)->complete_ok(call);
      return 0;
    };
    return run<call_on_fsync>(box, "on_fsync", state, call, answer, datasync != 0);
  }
  // S is freed whatever on_release does; its error (if any) is the answer.
  static int32_t release(void* inst, void* state, bentos_call* call, int32_t flags) noexcept {
    auto& box = unbox<D>(inst);
    std::unique_ptr<S> owned(static_cast<S*>(state));
    return guarded(box.host, "on_release", [&] {
      if constexpr (sync<call_on_release, int32_t>) invoke_form<call_on_release>(box.driver, sess::get(state), flags);
      svc(box)->complete_ok(call);
      return 0;
    });
  }

  // A hook the layer cannot call in any form fails the build, as do a
  // class without any hook and the name checks (hook_check.hpp).
#define BENTOS_DETAIL_RAW_CALLABLE(ok, name, form)                                                          \
  static_assert((ok) || !BENTOS_DETAIL_NAMED(D, name), #name " cannot be called: write `" form "` (the S& " \
                                                                "is optional), public")
  static constexpr bool checked = [] {
    constexpr bool any = sync<call_on_open, session_info> || sync<call_on_release, int32_t> ||
                         has<call_on_read, read_request> || has<call_on_write, write_request> ||
                         has<call_on_flush> || has<call_on_fsync, bool> || has<call_on_ioctl, ioctl_request> ||
                         has<call_on_poll, uint32_t>;
    static_assert(any || hook_check::own_hooks_RAW<D>() > 0, "the driver class has no hook: " BENTOS_DETAIL_ACCEPTS_RAW);
    BENTOS_DETAIL_RAW_CALLABLE((sync<call_on_open, session_info>), on_open, "void on_open(S&, const bentos::session_info&)");
    BENTOS_DETAIL_RAW_CALLABLE((has<call_on_read, read_request>), on_read,
                               "std::string on_read(S&, const bentos::read_request&)");
    BENTOS_DETAIL_RAW_CALLABLE((has<call_on_write, write_request>), on_write,
                               "uint64_t on_write(S&, const bentos::write_request&)");
    BENTOS_DETAIL_RAW_CALLABLE((has<call_on_ioctl, ioctl_request>), on_ioctl,
                               "bentos::ioctl_reply on_ioctl(S&, const bentos::ioctl_request&)");
    BENTOS_DETAIL_RAW_CALLABLE((has<call_on_poll, uint32_t>), on_poll, "uint32_t on_poll(S&, uint32_t events)");
    BENTOS_DETAIL_RAW_CALLABLE((has<call_on_flush>), on_flush, "void on_flush(S&)");
    BENTOS_DETAIL_RAW_CALLABLE((has<call_on_fsync, bool>), on_fsync, "void on_fsync(S&, bool datasync)");
    BENTOS_DETAIL_RAW_CALLABLE((sync<call_on_release, int32_t>), on_release, "void on_release(S&, int32_t flags)");
    return BENTOS_DETAIL_NAME_CHECKS_FOR(RAW, D);
  }();
#undef BENTOS_DETAIL_RAW_CALLABLE

  // open and release come as a pair: open allocates S, release frees it.
  static constexpr bool keeps_state = !std::is_same_v<S, no_session> || sync<call_on_open, session_info> ||
                                      sync<call_on_release, int32_t>;
  static constexpr bentos_raw_ops ops = {
      sizeof(bentos_raw_ops),
      0,
      keeps_state ? &open : nullptr,
      has<call_on_read, read_request> ? &read : nullptr,
      has<call_on_write, write_request> ? &write : nullptr,
      has<call_on_flush> ? &flush : nullptr,
      keeps_state ? &release : nullptr,
      has<call_on_fsync, bool> ? &fsync : nullptr,
      has<call_on_ioctl, ioctl_request> ? &ioctl : nullptr,
      has<call_on_poll, uint32_t> ? &poll : nullptr,
  };
};

}  // namespace detail

#define BENTOS_RAW_DRIVER(Class, name, version, description) \
  BENTOS_DETAIL_DRIVER_ENTRY(::bentos::detail::raw_adapter<Class>, name, version, description)

}  // namespace bentos
