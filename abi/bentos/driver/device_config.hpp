/*
 * bentos/driver/device_config.hpp - part of the C++ authoring layer (bentos/driver.hpp).
 * Device config: bentos::device_config, the device's JSON config with a tiny
 * top-level scanner (no JSON library in every plugin).
 */
#pragma once

#include "bentos/driver.h"
#include "bentos/driver/errors.hpp"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bentos {

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

}  // namespace bentos
