/*
 * bentos/driver.hpp - the C++ authoring layer over bentos/driver.h.
 *
 * Header only; needs the C++20 standard library and nothing else (no
 * protobuf, no libuv, no JSON library). A driver author writes one class
 * with domain callbacks and one macro line; the layer produces the exported
 * entry function, the static descriptor, the ops table and the exception
 * barrier, so no C++ exception ever crosses the C boundary.
 *
 * A write-read (P2) driver, in full:
 *
 *   class Kv {
 *    public:
 *     Kv(const bentos::device_config& config, bentos::host_handle host);
 *     std::string on_request(std::string_view request);  // may throw
 *   };
 *   BENTOS_WRITE_READ_DRIVER(Kv, "kv", "1.0.0", "a key-value store");
 *
 * Layout (each pattern template is one section; later patterns are added
 * as new sections without touching the earlier ones):
 *   1. Errors                bentos::error::driver_error and its factories
 *   2. Device config         bentos::device_config (tiny JSON scanner)
 *   3. Host access           bentos::host_handle, bentos::reply
 *   4. Adapter machinery     exception barrier, instance box, sessions,
 *                            descriptor; shared by every pattern
 *   5. Write-read (P2)       BENTOS_WRITE_READ_DRIVER
 *   6. Reserved              stream (P1), event_stream (P3),
 *                            configured_stream (P4), raw (L1)
 */
#pragma once

#include "bentos/driver.h"

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace bentos {

/* ==== 1. Errors ========================================================= */

namespace error {

// A failure carrying a positive errno. Driver code throws it (usually made
// by the factories below); the pattern's exception barrier turns it into
// the negative errno the C ABI expects. Any other exception becomes EIO.
// Derives from std::runtime_error so copying it never throws.
// Value type: any thread.
class driver_error : public std::runtime_error {
 public:
  driver_error(int code, const std::string& message)
      : std::runtime_error(message), code_(code > 0 ? code : EIO) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

// Usage: throw bentos::error::not_found("no such key");
inline driver_error from_errno(int code, const std::string& m) { return {code, m}; }
inline driver_error not_found(const std::string& m = "not found") { return {ENOENT, m}; }
inline driver_error permission_denied(const std::string& m = "permission denied") { return {EACCES, m}; }
inline driver_error invalid_argument(const std::string& m = "invalid argument") { return {EINVAL, m}; }
inline driver_error busy(const std::string& m = "busy") { return {EBUSY, m}; }
inline driver_error would_block(const std::string& m = "would block") { return {EAGAIN, m}; }
inline driver_error io(const std::string& m = "I/O error") { return {EIO, m}; }
inline driver_error not_supported(const std::string& m = "not supported") { return {ENOSYS, m}; }
inline driver_error timed_out(const std::string& m = "timed out") { return {ETIMEDOUT, m}; }
inline driver_error too_large(const std::string& m = "too large") { return {EFBIG, m}; }
inline driver_error no_memory(const std::string& m = "out of memory") { return {ENOMEM, m}; }
inline driver_error broken_pipe(const std::string& m = "broken pipe") { return {EPIPE, m}; }
inline driver_error not_a_tty(const std::string& m = "not a tty") { return {ENOTTY, m}; }

}  // namespace error

/* ==== 2. Device config ================================================== */

namespace detail {

// A forward-only reader over JSON text, just enough to list the members of
// the top-level object. It is tolerant on purpose: nested objects and
// arrays are skipped by bracket counting, not validated. The host has
// already parsed the manifest with a real JSON library, so the text is
// well formed in practice; this only has to find what is there.
struct json_cursor {
  std::string_view s;
  size_t i = 0;

  void skip_ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  bool eat(char c) {
    skip_ws();
    if (i < s.size() && s[i] == c) return ++i, true;
    return false;
  }
  static void put_utf8(std::string& out, uint32_t cp) {
    static constexpr unsigned char lead[] = {0x00, 0xC0, 0xE0, 0xF0};
    int extra = cp < 0x80 ? 0 : cp < 0x800 ? 1 : cp < 0x10000 ? 2 : 3;
    out += static_cast<char>(lead[extra] | (cp >> (6 * extra)));
    for (int k = extra - 1; k >= 0; --k) out += static_cast<char>(0x80 | ((cp >> (6 * k)) & 0x3F));
  }
  bool eat_raw(std::string_view token) {
    if (s.substr(i, token.size()) != token) return false;
    return i += token.size(), true;
  }
  bool hex4(uint32_t& cp) {
    if (s.size() - i < 4) return false;
    auto r = std::from_chars(s.data() + i, s.data() + i + 4, cp, 16);
    if (r.ptr != s.data() + i + 4) return false;
    i += 4;
    return true;
  }
  // At a '"': read one string, decoding escapes into *out when given.
  // A lone UTF-16 surrogate decodes to U+FFFD.
  bool string(std::string* out) {
    if (!eat('"')) return false;
    while (i < s.size()) {
      char c = s[i++];
      if (c == '"') return true;
      if (c != '\\') {
        if (out) *out += c;
        continue;
      }
      if (i >= s.size()) return false;
      char e = s[i++];
      uint32_t cp = static_cast<unsigned char>(e);  // \" \\ \/ stand for themselves
      if (size_t k = std::string_view("bfnrt").find(e); k != std::string_view::npos) {
        cp = static_cast<unsigned char>("\b\f\n\r\t"[k]);
      } else if (e == 'u') {
        if (!hex4(cp)) return false;
        uint32_t lo = 0;
        size_t back = i;
        if (cp >= 0xD800 && cp < 0xDC00 && eat_raw("\\u") && hex4(lo) && lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else {
          i = back;
        }
        if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;
      }
      if (out) put_utf8(*out, cp);
    }
    return false;
  }
  // Skip one value of any kind; nested containers by bracket depth.
  bool value() {
    skip_ws();
    if (i >= s.size()) return false;
    if (s[i] == '"') return string(nullptr);
    if (s[i] == '{' || s[i] == '[') {
      int depth = 0;
      while (i < s.size()) {
        char c = s[i];
        if (c == '"') {
          if (!string(nullptr)) return false;
          continue;
        }
        ++i;
        if (c == '{' || c == '[') ++depth;
        if ((c == '}' || c == ']') && --depth == 0) return true;
      }
      return false;
    }
    size_t start = i;  // number, true, false, null: up to a delimiter
    while (i < s.size() && std::string_view(",}] \t\r\n").find(s[i]) == std::string_view::npos) ++i;
    return i > start;
  }
};

}  // namespace detail

// The device's "config" value from the manifest, as JSON text, with small
// readers for top-level members. Owned by whoever constructed it (the
// adapter, for the duration of the driver's constructor: copy what you need).
// Immutable after construction, so any thread may read it.
//
// Limits of the built-in scanner (why: no JSON library in every plugin):
//  - Only members of the top-level object are visible. The text "null" (no
//    config in the manifest) or empty text means "no members"; anything
//    other than an object or null makes every reader throw EINVAL.
//  - Nested objects and arrays are skipped, not validated; raw() returns
//    their text for a driver that wants to parse them itself.
//  - Integers only (no fraction, no exponent), within int64.
//  - Strings decode the standard escapes, \uXXXX included, to UTF-8.
//  - A member whose value is null reads as absent. A duplicated key: the
//    last one wins, as in most JSON libraries.
class device_config {
 public:
  explicit device_config(std::string text) : text_(std::move(text)) { scan(); }

  const std::string& text() const noexcept { return text_; }
  // True when the manifest gave no config (or an empty one).
  bool is_null() const noexcept { return members_.empty() && error_.empty(); }

  // Top-level keys in document order (duplicates repeated).
  std::vector<std::string> keys() const {
    check();
    std::vector<std::string> out;
    for (const auto& m : members_) out.push_back(m.key);
    return out;
  }
  bool has(std::string_view key) const { return raw(key).has_value(); }

  // The member's JSON text, or nullopt when absent or null.
  std::optional<std::string_view> raw(std::string_view key) const {
    check();
    for (auto it = members_.rbegin(); it != members_.rend(); ++it) {
      if (it->key != key) continue;
      std::string_view v = std::string_view(text_).substr(it->begin, it->len);
      if (v == "null") return std::nullopt;
      return v;
    }
    return std::nullopt;
  }

  // Typed readers: nullopt when absent; EINVAL when of another type.
  std::optional<bool> get_bool(std::string_view key) const {
    auto v = raw(key);
    if (!v) return std::nullopt;
    if (*v == "true") return true;
    if (*v == "false") return false;
    throw wrong_type(key, "true or false");
  }
  std::optional<int64_t> get_int(std::string_view key) const {
    auto v = raw(key);
    if (!v) return std::nullopt;
    int64_t n = 0;
    auto r = std::from_chars(v->data(), v->data() + v->size(), n);
    if (r.ec != std::errc() || r.ptr != v->data() + v->size()) throw wrong_type(key, "an integer");
    return n;
  }
  std::optional<std::string> get_string(std::string_view key) const {
    auto v = raw(key);
    if (!v) return std::nullopt;
    detail::json_cursor c{*v};
    std::string out;
    if (!c.string(&out) || c.i != v->size()) throw wrong_type(key, "a string");
    return out;
  }
  bool bool_or(std::string_view key, bool fallback) const { return get_bool(key).value_or(fallback); }
  int64_t int_or(std::string_view key, int64_t fallback) const { return get_int(key).value_or(fallback); }
  std::string string_or(std::string_view key, std::string fallback) const {
    return get_string(key).value_or(std::move(fallback));
  }

 private:
  struct member {
    std::string key;
    size_t begin, len;  // offsets into text_ (a view would dangle on move)
  };

  void scan() {
    detail::json_cursor c{text_};
    c.skip_ws();
    if (c.i == text_.size()) return;
    if (text_.compare(c.i, 4, "null") == 0) {
      c.i += 4;
    } else if (c.eat('{')) {
      if (!c.eat('}')) {
        do {
          c.skip_ws();
          member m{{}, 0, 0};
          if (!c.string(&m.key) || !c.eat(':')) return fail("expected \"key\": value");
          c.skip_ws();
          m.begin = c.i;
          if (!c.value()) return fail("malformed value for key '" + m.key + "'");
          m.len = c.i - m.begin;
          members_.push_back(std::move(m));
        } while (c.eat(','));
        if (!c.eat('}')) return fail("expected ',' or '}'");
      }
    } else {
      return fail("the config must be a JSON object");
    }
    c.skip_ws();
    if (c.i != text_.size()) fail("unexpected text after the config object");
  }
  void fail(std::string why) {
    members_.clear();
    error_ = "config: " + why;
  }
  void check() const {
    if (!error_.empty()) throw error::invalid_argument(error_);
  }
  static error::driver_error wrong_type(std::string_view key, const char* expected) {
    return error::invalid_argument("config key '" + std::string(key) + "' must be " + expected);
  }

  std::string text_;
  std::vector<member> members_;
  std::string error_;  // non-empty when the text could not be scanned
};

/* ==== 3. Host access ==================================================== */

enum class log_level : int32_t {
  error = BENTOS_LOG_ERROR,
  warn = BENTOS_LOG_WARN,
  info = BENTOS_LOG_INFO,
  debug = BENTOS_LOG_DEBUG,
};

// Who a new session is: open flags, fh, connection (driver.h).
using session_info = bentos_session_info;

// The instance's link to the host: logging and the device name. Two
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

/* ==== 4. Adapter machinery (shared by every pattern) ==================== */

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
      std::unique_ptr<S> s;
      if constexpr (std::is_constructible_v<S, const session_info&>) {
        s = std::make_unique<S>(*info);
      } else {
        s = std::make_unique<S>();
      }
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

// `static constexpr bentos_threading threading = BENTOS_THREADING_WORKER;`
// in the driver asks for host worker threads; the default is the loop.
template <class D>
constexpr uint32_t threading_of() {
  if constexpr (requires { D::threading; }) return static_cast<uint32_t>(D::threading);
  return BENTOS_THREADING_LOOP;
}

// Each pattern adapter A provides: pattern, create, destroy, ops (constexpr).
template <class A>
constexpr bentos_driver make_descriptor(const char* name, const char* version, const char* description) {
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

}  // namespace detail

// The exported entry for adapter A. Every BENTOS_*_DRIVER macro ends here.
// The trailing static_assert makes the macro take a ';' like a declaration.
#define BENTOS_DETAIL_DRIVER_ENTRY(Adapter, name, version, description)                  \
  extern "C" BENTOS_EXPORT const bentos_driver* bentos_driver_entry_v1(uint32_t, uint32_t) { \
    static constexpr bentos_driver descriptor =                                          \
        ::bentos::detail::make_descriptor<Adapter>(name, version, description);          \
    return &descriptor;                                                                  \
  }                                                                                      \
  static_assert(true)

/* ==== 5. Write-read (P2) ================================================= */

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
      static_assert(always_false<D>, "a write-read driver needs on_request (see driver.hpp section 5)");
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

/* ==== 6. Reserved for the other patterns ===============================
 *
 * stream (P1), event_stream (P3), configured_stream (P4) and raw (L1) each
 * get one section here, shaped like section 5: a detail::<pattern>_adapter
 * deriving from lifecycle<D> (plus sessions<D> where the pattern has them)
 * with static noexcept callbacks wrapped in guarded() and a constexpr ops
 * table, and a BENTOS_<PATTERN>_DRIVER macro over BENTOS_DETAIL_DRIVER_ENTRY.
 */

}  // namespace bentos
