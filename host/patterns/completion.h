// A plugin's answer to one request, as the host received it through the
// services table (complete_bytes, complete_count, ...). Plain value type.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>

namespace bentos::patterns {

struct Completion {
  enum class Kind : uint8_t { bytes, count, ok, ioctl, poll, error };
  Kind kind = Kind::ok;
  std::string data;      // bytes, ioctl buf
  uint64_t count = 0;    // count
  int32_t result = 0;    // ioctl result
  uint32_t revents = 0;  // poll
  int32_t err = 0;       // error: POSITIVE errno

  static Completion error(int32_t positive_errno) {
    Completion c;
    c.kind = Kind::error;
    c.err = positive_errno;
    return c;
  }
  static Completion bytes(std::string data) {
    Completion c;
    c.kind = Kind::bytes;
    c.data = std::move(data);
    return c;
  }
};

const char* completion_kind_name(Completion::Kind kind);

// Linux error numbers run from 1 to 4095 (the kernel's MAX_ERRNO).
inline constexpr int64_t kMaxErrno = 4095;

// True when `code` is a failure as the plugin ABI writes it: a negative
// errno, -1 to -4095. 0, a positive value (a forgotten minus) or an absurd
// one (-100000, INT32_MIN) is a plugin bug.
inline bool is_negative_errno(int64_t code) { return code < 0 && code >= -kMaxErrno; }

// The positive errno the wire carries for a plugin's failure code: -code
// when it is a negative errno, else EIO (the caller logs the bug).
inline int32_t wire_errno(int64_t code) { return is_negative_errno(code) ? static_cast<int32_t>(-code) : EIO; }

}  // namespace bentos::patterns
