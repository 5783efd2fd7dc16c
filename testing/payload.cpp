// Payload helpers and reply decoding (bentos/testing.hpp): plain values,
// no state; any thread.
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "bentos/testing.hpp"

namespace bentos::testing {

namespace payload {

std::string int32(int32_t value) {
  const auto u = static_cast<uint32_t>(value);
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((u >> (8 * i)) & 0xFF);
  return out;
}

std::string float64(double value) {
  uint64_t u;
  std::memcpy(&u, &value, sizeof u);
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((u >> (8 * i)) & 0xFF);
  return out;
}

std::string json(std::string_view text) {
  if (!nlohmann::json::accept(text)) throw failure("payload::json: not JSON: " + std::string(text));
  return std::string(text);
}

std::string text(std::string_view text) { return std::string(text); }

}  // namespace payload

int32_t reply::as_int32() const {
  if (data.size() != 4) throw failure("as_int32: the answer is not 4 bytes: " + describe());
  uint32_t u = 0;
  for (int i = 0; i < 4; ++i) u |= uint32_t{static_cast<uint8_t>(data[i])} << (8 * i);
  return static_cast<int32_t>(u);
}

double reply::as_float64() const {
  if (data.size() != 8) throw failure("as_float64: the answer is not 8 bytes: " + describe());
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u |= uint64_t{static_cast<uint8_t>(data[i])} << (8 * i);
  double value;
  std::memcpy(&value, &u, sizeof value);
  return value;
}

std::string reply::describe() const {
  auto quoted = [](const std::string& d) {
    std::string shown = d.size() > 64 ? d.substr(0, 64) + "..." : d;
    return std::to_string(d.size()) + " bytes \"" + shown + "\"";
  };
  switch (what) {
    case kind::error: {
      const char* name = strerrorname_np(error);
      return std::string("error ") + (name ? name : "?") + " (" + std::to_string(error) + ")";
    }
    case kind::empty: return "ok";
    case kind::opened: return "opened";
    case kind::data: return data.empty() ? "data: end of file" : "data " + quoted(data);
    case kind::written: return "written " + std::to_string(written);
    case kind::ioctl: return "ioctl result " + std::to_string(result) + ", " + quoted(data);
    case kind::poll: return "poll revents 0x" + [&] {
      char hex[16];
      std::snprintf(hex, sizeof hex, "%x", revents);
      return std::string(hex);
    }();
  }
  return "?";
}

}  // namespace bentos::testing
