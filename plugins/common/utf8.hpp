// UTF-8 helpers shared by the example plugins (kv, synth): strict
// decoding, encoding, and trimming with the whitespace set of Dart's
// String.trim(), which the reference SDK's examples use. Header only, no
// state: any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bentos_examples::utf8 {

// Decodes the sequence starting at s[i] into cp and returns its length, or
// 0 when the bytes there are not valid UTF-8 (bad lead byte, truncated,
// overlong, a surrogate, or above U+10FFFF).
inline size_t decode_one(std::string_view s, size_t i, char32_t& cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  static constexpr uint32_t lead_mask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  static constexpr uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  uint32_t v = b & lead_mask[n];
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (byte(i + k) & 0x3F);
  }
  if (v < smallest[n] || v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) return 0;
  cp = static_cast<char32_t>(v);
  return n;
}

// The whole text as code points, or nullopt when it is not valid UTF-8.
inline std::optional<std::u32string> decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  char32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    size_t n = decode_one(s, i, cp);
    if (n == 0) return std::nullopt;
    out += cp;
    i += n;
  }
  return out;
}

inline bool valid(std::string_view s) {
  char32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    size_t n = decode_one(s, i, cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// Appends one code point (a valid scalar value) as UTF-8.
inline void append(std::string& out, char32_t cp) {
  auto v = static_cast<uint32_t>(cp);
  static constexpr unsigned char lead[] = {0x00, 0xC0, 0xE0, 0xF0};
  int extra = v < 0x80 ? 0 : v < 0x800 ? 1 : v < 0x10000 ? 2 : 3;
  out += static_cast<char>(lead[extra] | (v >> (6 * extra)));
  for (int k = extra - 1; k >= 0; --k) out += static_cast<char>(0x80 | ((v >> (6 * k)) & 0x3F));
}

// The code points Dart's String.trim() removes.
inline bool is_trimmed_space(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000 || cp == 0xFEFF;
}

// Code points without surrounding whitespace.
inline std::u32string_view trim(std::u32string_view s) {
  size_t begin = 0, end = s.size();
  while (begin < end && is_trimmed_space(s[begin])) ++begin;
  while (end > begin && is_trimmed_space(s[end - 1])) --end;
  return s.substr(begin, end - begin);
}

// Valid UTF-8 text without surrounding whitespace (a view into it).
inline std::string_view trim(std::string_view valid_text) {
  char32_t cp = 0;
  size_t begin = 0;
  while (begin < valid_text.size()) {
    size_t n = decode_one(valid_text, begin, cp);
    if (n == 0 || !is_trimmed_space(cp)) break;
    begin += n;
  }
  size_t end = valid_text.size();
  while (end > begin) {
    size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(valid_text[start]) & 0xC0) == 0x80) --start;
    if (decode_one(valid_text, start, cp) == 0 || !is_trimmed_space(cp)) break;
    end = start;
  }
  return valid_text.substr(begin, end - begin);
}

}  // namespace bentos_examples::utf8
