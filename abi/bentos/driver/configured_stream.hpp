/*
 * bentos/driver/configured_stream.hpp - part of the C++ authoring layer (bentos/driver.hpp).
 * Configured stream (P4): typed config and codec, bentos::record_stream,
 * bentos::typed_stream<O>, BENTOS_CONFIGURED_STREAM_DRIVER.
 */
#pragma once

#include "bentos/driver.h"
#include "bentos/driver/adapter.hpp"

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace bentos {

// What a config codec says about one ioctl.
enum class apply_result {
  recognised,  // the config was changed (or confirmed) by this command
  not_mine,    // not a config command: the host asks on_query next
};

// The input records of one cycle (one per write), valid during process().
using record_list = std::vector<std::string_view>;

// The config of a driver that declares none.
struct no_config {};

namespace detail {

// The one cycle behind every copy of a record_stream. The stream pointer
// is swapped out atomically by end(), so the stream ends at most once
// whatever the threads do; if the last copy goes away without end(), the
// stream is ended with EIO (logged unless the stream was cancelled).
class stream_state {
 public:
  stream_state(bentos_cycle* stream, host_handle host) noexcept : stream_(stream), host_(host) {}
  stream_state(const stream_state&) = delete;
  stream_state& operator=(const stream_state&) = delete;
  ~stream_state() {
    if (bentos_cycle* s = take()) {
      if (!cancelled()) host_.log(log_level::warn, "a record_stream was dropped without end(); ending it with EIO");
      host_.services()->end(s, -EIO);
    }
  }
  bentos_cycle* peek() const noexcept { return stream_.load(); }
  bentos_cycle* take() noexcept { return stream_.exchange(nullptr); }
  void cancel() noexcept { cancelled_.store(true); }
  bool cancelled() const noexcept { return cancelled_.load(); }
  const host_handle& host() const noexcept { return host_; }

 private:
  std::atomic<bentos_cycle*> stream_;
  std::atomic<bool> cancelled_{false};
  host_handle host_;
};

}  // namespace detail

// The output of one P4 cycle: records for the session's readers, then
// exactly one end. A shared handle: copies (for threads, timers, the
// session state) all refer to the same cycle, and every member may be
// called from any thread. The first end() from any copy ends the cycle;
// later ones and later yields return -ESTALE and do nothing. If the last
// copy is dropped without end(), the cycle ends with EIO. After DROP, RESET
// or release the cycle is cancelled: yields return -ECANCELED and are
// dropped, cancelled() turns true (a hint for threads to stop), and end()
// should still be called (or the last copy dropped).
class record_stream {
 public:
  record_stream() noexcept = default;  // a cycle that is already over
  explicit record_stream(std::shared_ptr<detail::stream_state> state) noexcept : state_(std::move(state)) {}

  // One output record (one read on the other side; zero-length records
  // are never delivered). 0, -ECANCELED, -ESTALE or another -errno.
  int32_t yield(const void* data, size_t len) const noexcept {
    bentos_cycle* s = state_ ? state_->peek() : nullptr;
    if (!s) return -ESTALE;
    int32_t rc = state_->host().services()->yield(s, data, len);
    if (rc == -ECANCELED) state_->cancel();
    return rc;
  }
  int32_t yield(std::string_view record) const noexcept { return yield(record.data(), record.size()); }

  // Ends the cycle: 0 for success, or an errno (positive or negative)
  // that readers get after the last record.
  int32_t end(int errno_value = 0) const noexcept {
    bentos_cycle* s = state_ ? state_->take() : nullptr;
    if (!s) return -ESTALE;
    return state_->host().services()->end(s, errno_value > 0 ? -errno_value : errno_value);
  }
  int32_t fail(const error::driver_error& e) const noexcept { return end(e.code()); }

  bool cancelled() const noexcept { return state_ && state_->cancelled(); }
  bool ended() const noexcept { return !state_ || state_->peek() == nullptr; }

 private:
  std::shared_ptr<detail::stream_state> state_;
};

// A record_stream that yields Output values, each encoded into one record
// by the driver's encode_output(value, config) with the config of the cycle
// (a copy kept by the stream). Same sharing and thread rules as
// record_stream; encode_output runs on the thread that yields.
template <class Output>
class typed_stream {
 public:
  using encoder = std::function<std::string(const Output&)>;

  typed_stream(record_stream records, host_handle host, std::shared_ptr<const encoder> encode) noexcept
      : records_(std::move(records)), host_(host), encode_(std::move(encode)) {}

  // Encodes and yields one value: as record_stream::yield, or the errno of
  // an encoder that throws (nothing is yielded then). Never throws.
  int32_t yield(const Output& value) const noexcept {
    std::string bytes;
    int32_t rc = detail::guarded(host_, "encode_output", [&] {
      bytes = (*encode_)(value);
      return 0;
    });
    return rc < 0 ? rc : records_.yield(bytes);
  }
  int32_t end(int errno_value = 0) const noexcept { return records_.end(errno_value); }
  int32_t fail(const error::driver_error& e) const noexcept { return records_.fail(e); }
  bool cancelled() const noexcept { return records_.cancelled(); }
  bool ended() const noexcept { return records_.ended(); }
  // The untyped view of the same cycle (raw records, same end).
  const record_stream& records() const noexcept { return records_; }

 private:
  record_stream records_;
  host_handle host_;
  std::shared_ptr<const encoder> encode_;
};

// A configured-stream driver D declares its config and codec:
//
//   using config_type = C;                 // default: bentos::no_config
//   C default_config();                    // optional; else C{}
//   bentos::apply_result apply(uint32_t cmd, std::string_view in, C& config);
//
// apply() edits a copy of the current config (the host keeps or frees it):
// `recognised` for a config command, `not_mine` for anything else (the
// host then asks on_query), or it throws bentos::error::* (EINVAL for a
// short or malformed payload; any other exception it throws, such as
// std::out_of_range or a JSON parse error, also answers EINVAL). It may
// return bool instead (true = recognised). Then one processing form, bytes or typed (S is
// D::session_type, see adapter.hpp; every form may drop the leading S&):
//
//   void process(S&, const bentos::record_list& records, const C& config,
//                bentos::record_stream out);
//
//   using input_type = I;  using output_type = O;
//   I decode_input(S&, const bentos::record_list& records, const C& config);
//   std::string encode_output(const O& chunk, const C& config);  // any thread
//   void process(S&, I input, const C& config, bentos::typed_stream<O> out);
//
// process() yields and ends through `out`, now or later, from any thread.
// A throw from process or decode_input fails the submit at once with its
// errno: EIO for a non-bentos exception from process, EINVAL for one from
// decode_input (the input was malformed). The cycle is then over: `out`
// and its copies do nothing. A driver without process, or a typed one
// lacking decode_input or encode_output, answers every submit ENOSYS.
// `config` is valid during the call only: copy what a thread needs.
// Optional:
//
//   std::string on_query(S&, uint32_t cmd, std::string_view in, const C&);
//   std::string on_query(S&, uint32_t cmd, const C&);  // read ioctls, any state
//   void on_cancel(S&);   // DROP, RESET or release cancelled the cycle
//   void on_drain(S&);    // the cycle ended; once per cycle
//   void on_writable(S&); // a yield refused with -EAGAIN may be retried
//                         // (readers drained the output; ABI 1.1)
//   void on_session_start(S&, const bentos::session_info&);
//   void on_session_end(S&);
//
// on_query answers result 0 with its bytes; it throws for an unknown
// command (bentos::error::invalid_argument, as when there is no on_query).
// Callbacks run on the loop thread (or host workers when D asks for them or
// the manifest does). On the loop, process() and on_cancel() may start and
// stop host timers (bentos::timer); on workers they may not (declare
// `static constexpr bool loop_only = true;` if they do). A mistake in
// these (a misspelled hook, another pattern's hook, a form the layer
// cannot call, no hook at all) fails the build: bentos/driver/hook_check.hpp.
namespace detail {

template <class D>
struct config_type_of {
  using type = no_config;
};
template <class D>
  requires requires { typename D::config_type; }
struct config_type_of<D> {
  using type = typename D::config_type;
};

// Per-session state: the driver's S and the latest cycle (to mark it
// cancelled). Owned by the host's session; callbacks only.
template <class S>
struct configured_box {
  configured_box(const session_info& info, host_handle) : state(build_state<S>(info)) {}
  S state;
  std::weak_ptr<stream_state> current;
};

template <class D>
struct configured_stream_adapter : lifecycle<D> {
  using S = typename session_type_of<D>::type;
  using C = typename config_type_of<D>::type;
  using box_t = configured_box<S>;
  using sess = boxed_sessions<D, box_t>;
  static constexpr uint32_t pattern = BENTOS_PATTERN_CONFIGURED_STREAM;
  static constexpr uint32_t threading = threading_of<D>();

  static constexpr bool has_apply = std::is_invocable_v<call_apply, D&, uint32_t, std::string_view, C&>;
  static constexpr bool bytes_process = has_form<call_process, D, S, const record_list&, const C&, record_stream>;
  static constexpr bool query_with_input = has_form<call_on_query, D, S, uint32_t, std::string_view, const C&>;
  static constexpr bool query_plain = has_form<call_on_query, D, S, uint32_t, const C&>;
  static constexpr bool has_cancel = has_form<call_on_cancel, D, S>;
  static constexpr bool has_drain = has_form<call_on_drain, D, S>;
  static constexpr bool has_writable = has_form<call_on_writable, D, S>;
  static constexpr bool has_default = requires(D& d) { d.default_config(); };
  static constexpr bool typed = requires { typename D::input_type; typename D::output_type; };
  // Each piece of the typed form, when D declares input_type and output_type.
  template <class T = D>
  static constexpr bool typed_piece(int piece) {
    if constexpr (requires { typename T::input_type; typename T::output_type; }) {
      using I = typename T::input_type;
      using O = typename T::output_type;
      if (piece == 0) return has_form<call_decode_input, T, S, const record_list&, const C&>;
      if (piece == 1) return std::is_invocable_v<call_encode_output, T&, const O&, const C&>;
      return has_form<call_process, T, S, I, const C&, typed_stream<O>>;
    } else {
      return false;
    }
  }

  static constexpr bool checked = [] {
    constexpr bool any = has_apply || bytes_process || typed_piece(2) || query_with_input || query_plain ||
                         has_cancel || has_drain || has_writable || has_default;
    static_assert(any || hook_check::own_hooks_CONFIGURED_STREAM<D>() > 0,
                  "the driver class has no hook: " BENTOS_DETAIL_ACCEPTS_CONFIGURED_STREAM);
    static_assert(has_apply || !BENTOS_DETAIL_NAMED(D, apply),
                  "apply cannot be called: write `bentos::apply_result apply(uint32_t cmd, std::string_view in, "
                  "config_type& config)` (or returning bool), public");
    static_assert(bytes_process || typed_piece(2) || !BENTOS_DETAIL_NAMED(D, process),
                  "process cannot be called: write `void process([S&,] const bentos::record_list&, const "
                  "config_type&, bentos::record_stream)`, or with input_type/output_type declared `void process([S&,] "
                  "input_type, const config_type&, bentos::typed_stream<output_type>)`, public");
    static_assert(!typed || typed_piece(0) || !BENTOS_DETAIL_NAMED(D, decode_input),
                  "decode_input cannot be called: write `input_type decode_input([S&,] const bentos::record_list&, "
                  "const config_type&)`, public");
    static_assert(!typed || typed_piece(1) || !BENTOS_DETAIL_NAMED(D, encode_output),
                  "encode_output cannot be called: write `std::string encode_output(const output_type&, const "
                  "config_type&)`, public");
    static_assert(query_with_input || query_plain || !BENTOS_DETAIL_NAMED(D, on_query),
                  "on_query cannot be called: write `std::string on_query([S&,] uint32_t cmd [, std::string_view in], "
                  "const config_type&)`, public");
    static_assert(has_cancel || !BENTOS_DETAIL_NAMED(D, on_cancel), "on_cancel cannot be called: write `void on_cancel([S&])`, public");
    static_assert(has_drain || !BENTOS_DETAIL_NAMED(D, on_drain), "on_drain cannot be called: write `void on_drain([S&])`, public");
    static_assert(has_writable || !BENTOS_DETAIL_NAMED(D, on_writable),
                  "on_writable cannot be called: write `void on_writable([S&])`, public");
    static_assert(has_default || !BENTOS_DETAIL_NAMED(D, default_config),
                  "default_config cannot be called: write `config_type default_config()`, public");
    static_assert(sess::hooks::has_start || !BENTOS_DETAIL_NAMED(D, on_session_start),
                  "on_session_start cannot be called: write `void on_session_start(S&, const bentos::session_info&)`, public");
    static_assert(sess::hooks::has_end || !BENTOS_DETAIL_NAMED(D, on_session_end),
                  "on_session_end cannot be called: write `void on_session_end(S&)`, public");
    return BENTOS_DETAIL_NAME_CHECKS_FOR(CONFIGURED_STREAM, D);
  }();

  static int32_t config_default(void* inst, void** config) noexcept {
    auto& box = unbox<D>(inst);
    return guarded(box.host, "default_config", [&] {
      if constexpr (has_default) {
        *config = new C(box.driver.default_config());
      } else {
        *config = new C();
      }
      return 0;
    });
  }

  static int32_t config_apply(void* inst, const void* config, uint32_t cmd, const uint8_t* in, uint64_t in_len,
                              void** new_config) noexcept {
    auto& box = unbox<D>(inst);
    if (!config) return -EINVAL;
    std::string_view bytes(reinterpret_cast<const char*>(in), in ? in_len : 0);
    return guarded(box.host, "apply", [&] {
      std::unique_ptr<C> next(new C(*static_cast<const C*>(config)));
      if constexpr (has_apply) {
        auto r = decoding("apply", [&] { return box.driver.apply(cmd, bytes, *next); });
        bool mine = false;
        if constexpr (std::is_same_v<decltype(r), bool>) {
          mine = r;
        } else {
          static_assert(std::is_same_v<decltype(r), apply_result>, "apply returns bentos::apply_result or bool");
          mine = r == apply_result::recognised;
        }
        if (!mine) return -ENOTTY;
        *new_config = next.release();
        return 0;
      } else {
        return -ENOTTY;
      }
    });
  }

  static void config_free(void*, void* config) noexcept { delete static_cast<C*>(config); }

  // The typed form, or ENOSYS when a piece of it is missing.
  static int32_t run_typed(instance<D>& box, box_t& b, const record_list& records, const C& config,
                           const std::shared_ptr<stream_state>& st) {
    using I = typename D::input_type;
    using O = typename D::output_type;
    if constexpr (!has_form<call_decode_input, D, S, const record_list&, const C&>) {
      box.host.log(log_level::debug, "no decode_input: process answers ENOSYS");
      return -ENOSYS;
    } else if constexpr (!std::is_invocable_v<call_encode_output, D&, const O&, const C&>) {
      box.host.log(log_level::debug, "no encode_output: process answers ENOSYS");
      return -ENOSYS;
    } else if constexpr (!has_form<call_process, D, S, I, const C&, typed_stream<O>>) {
      box.host.log(log_level::debug, "no typed process: process answers ENOSYS");
      return -ENOSYS;
    } else {
      I input = decoding("decode_input",
                         [&] { return invoke_form<call_decode_input>(box.driver, b.state, records, config); });
      auto kept = std::make_shared<const C>(config);
      D* driver = &box.driver;
      auto encode = std::make_shared<const typename typed_stream<O>::encoder>(
          [driver, kept](const O& chunk) { return std::string(driver->encode_output(chunk, *kept)); });
      invoke_form<call_process>(box.driver, b.state, std::move(input), config,
                                typed_stream<O>(record_stream(st), box.host, std::move(encode)));
      return 0;
    }
  }

  static int32_t process(void* inst, void* state, const void* config, const bentos_bytes* records, uint64_t count,
                         bentos_cycle* stream) noexcept {
    auto& box = unbox<D>(inst);
    box_t& b = sess::get(state);
    if (!config) return -EINVAL;
    const C& cfg = *static_cast<const C*>(config);
    std::shared_ptr<stream_state> st;
    int32_t rc = guarded(box.host, "process", [&] {
      st = std::make_shared<stream_state>(stream, box.host);
      b.current = st;
      record_list list;
      list.reserve(count);
      for (uint64_t i = 0; i < count; ++i) {
        list.emplace_back(reinterpret_cast<const char*>(records[i].data), records[i].data ? records[i].len : 0);
      }
      if constexpr (bytes_process) {
        invoke_form<call_process>(box.driver, b.state, std::as_const(list), cfg, record_stream(st));
        return 0;
      } else if constexpr (requires { typename D::input_type; typename D::output_type; }) {
        return run_typed(box, b, list, cfg, st);
      } else {
        box.host.log(log_level::debug, "no process: process answers ENOSYS");
        return -ENOSYS;
      }
    });
    // A failure fails the submit and end() must not follow: disarm the
    // cycle so copies the driver kept do nothing. If the driver had ended
    // the cycle before failing, that outcome stands.
    if (rc < 0 && st && !st->take()) return 0;
    return rc;
  }

  static int32_t on_query(void* inst, void* state, const void* config, bentos_call* call, uint32_t cmd,
                          const uint8_t* in, uint64_t in_len, uint64_t) noexcept {
    auto& box = unbox<D>(inst);
    box_t& b = sess::get(state);
    if (!config) return -EINVAL;
    const C& cfg = *static_cast<const C*>(config);
    std::string_view bytes(reinterpret_cast<const char*>(in), in ? in_len : 0);
    return guarded(box.host, "on_query", [&] {
      auto answer = [&](const auto& out) {
        std::string_view answered = returned_bytes(out);
        box.host.services()->complete_ioctl(call, 0, answered.data(), answered.size());
        return 0;
      };
      if constexpr (query_with_input) {
        return answer(invoke_form<call_on_query>(box.driver, b.state, cmd, bytes, cfg));
      } else if constexpr (query_plain) {
        return answer(invoke_form<call_on_query>(box.driver, b.state, cmd, cfg));
      } else {
        return -EINVAL;
      }
    });
  }

  static void on_cancel(void* inst, void* state, bentos_cycle*) noexcept {
    auto& box = unbox<D>(inst);
    box_t& b = sess::get(state);
    if (auto st = b.current.lock()) st->cancel();
    guarded(box.host, "on_cancel", [&] {
      if constexpr (has_cancel) invoke_form<call_on_cancel>(box.driver, b.state);
      return 0;
    });
  }

  static void on_drain(void* inst, void* state) noexcept {
    auto& box = unbox<D>(inst);
    guarded(box.host, "on_drain", [&] {
      if constexpr (has_drain) invoke_form<call_on_drain>(box.driver, sess::get(state).state);
      return 0;
    });
  }

  static void on_writable(void* inst, void* state) noexcept {
    auto& box = unbox<D>(inst);
    guarded(box.host, "on_writable", [&] {
      if constexpr (has_writable) invoke_form<call_on_writable>(box.driver, sess::get(state).state);
      return 0;
    });
  }

  static constexpr bentos_configured_stream_ops ops = {
      sizeof(bentos_configured_stream_ops),
      0,
      &sess::start,
      &sess::end,
      &config_default,
      has_apply ? &config_apply : nullptr,
      &config_free,
      &process,
      query_with_input || query_plain ? &on_query : nullptr,
      &on_cancel,
      has_drain ? &on_drain : nullptr,
      has_writable ? &on_writable : nullptr,
  };
};

}  // namespace detail

#define BENTOS_CONFIGURED_STREAM_DRIVER(Class, name, version, description) \
  BENTOS_DETAIL_DRIVER_ENTRY(::bentos::detail::configured_stream_adapter<Class>, name, version, description)

}  // namespace bentos
