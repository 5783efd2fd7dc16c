/*
 * bentos/inference/utf8.hpp - part of the inference subsystem (bentos/inference.hpp).
 * Strict UTF-8 validation (RFC 3629): no overlong forms, no surrogates,
 * nothing above U+10FFFF, no truncated sequence. The unstructured input
 * and SET_SYSTEM must pass it, so that every string later written as JSON
 * is exactly what the user sent. Pure function: any thread.
 */
#pragma once

#include <cstddef>
#include <string_view>

namespace bentos::inference {

inline bool valid_utf8(std::string_view s) noexcept {
  size_t i = 0;
  const size_t n = s.size();
  auto byte = [&s](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < n && (byte(k) & 0xC0) == 0x80; };
  while (i < n) {
    unsigned char c = byte(i);
    if (c < 0x80) {
      ++i;
      continue;
    }
    // The second byte's range rules out overlongs (E0, F0), surrogates
    // (ED) and code points above U+10FFFF (F4).
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;  // a continuation byte, C0, C1 or F5..FF
    }
    if (i + 1 >= n || byte(i + 1) < lo || byte(i + 1) > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if (!cont(i + k)) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace bentos::inference
