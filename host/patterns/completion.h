// A plugin's answer to one request, as the host received it through the
// services table (complete_bytes, complete_count, ...). Plain value type.
#pragma once

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

}  // namespace bentos::patterns
