/*
 * bentos/inference/config.hpp - part of the inference subsystem (bentos/inference.hpp).
 * InferenceConfig (inference.md §2) and its ioctl codec 0x01..0x0B.
 *
 * Commands are matched on the low 16 bits of cmd with type byte 0, so the
 * SDK's small integers and `_IOW(0, nr, T)` from a shell tool both work;
 * the Linux direction and size bits are ignored (the host already routed
 * 0xBE framework commands away). Numbers are little-endian. Fixed-size
 * payloads read their first 4 (int32), 8 (float64) or 1 (format) bytes: a
 * longer buffer is accepted as `_IOW` with a wider type would send it, a
 * shorter one is EINVAL.
 *
 * Beyond the contract's shape checks the codec refuses values no provider
 * accepts, also with EINVAL, so the error surfaces at the ioctl instead of
 * as a provider error later: max_tokens < 1, a negative thinking_budget,
 * a negative or non-finite temperature or top_p (NaN has no JSON form).
 */
#pragma once

#include "bentos/driver/configured_stream.hpp"
#include "bentos/driver/errors.hpp"
#include "bentos/inference/json.hpp"
#include "bentos/inference/types.hpp"
#include "bentos/inference/utf8.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bentos::inference {

// The ioctl numbers of §2 and §3 (the low byte of cmd; type byte 0).
namespace command {
inline constexpr uint32_t set_max_tokens = 0x01;
inline constexpr uint32_t set_temperature = 0x02;
inline constexpr uint32_t set_top_p = 0x03;
inline constexpr uint32_t set_stop = 0x04;
inline constexpr uint32_t set_thinking_budget = 0x05;
inline constexpr uint32_t set_input_format = 0x06;
inline constexpr uint32_t set_output_format = 0x07;
inline constexpr uint32_t set_tools = 0x08;
inline constexpr uint32_t set_tool_choice = 0x09;
inline constexpr uint32_t set_extra = 0x0A;
inline constexpr uint32_t set_system = 0x0B;
inline constexpr uint32_t get_metadata = 0x80;
inline constexpr uint32_t get_error = 0x81;
inline constexpr uint32_t get_info = 0x82;
}  // namespace command

// The number of an inference command, or nullopt when cmd's type byte is
// not 0 (not ours, whatever its number).
constexpr std::optional<uint32_t> command_number(uint32_t cmd) {
  if ((cmd & 0xFF00) != 0) return std::nullopt;
  return cmd & 0xFF;
}

// A session's request settings. Every field starts unset (the provider's
// or the device's default applies); only RESET unsets one again. A value
// type: the host keeps one per session and the codec edits copies.
struct inference_config {
  std::optional<int32_t> max_tokens;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<std::vector<std::string>> stop;
  std::optional<int32_t> thinking_budget;
  format input_format = format::unstructured;
  format output_format = format::unstructured;
  std::optional<std::vector<inference::tool>> tools;
  std::optional<inference::tool_choice> tool_choice;
  std::optional<json> extra;  // a JSON object: provider-specific request fields
  std::optional<std::string> system;
  bool operator==(const inference_config&) const = default;
};

namespace detail {

[[noreturn]] inline void bad_payload(const char* command, const char* why) {
  throw error::invalid_argument(std::string("inference: ") + command + ": " + why);
}

inline uint64_t little_endian(std::string_view in, size_t size, const char* command) {
  if (in.size() < size) bad_payload(command, "payload too short");
  uint64_t v = 0;
  for (size_t k = size; k-- > 0;) v = (v << 8) | static_cast<unsigned char>(in[k]);
  return v;
}

inline int32_t read_int32(std::string_view in, const char* command) {
  return static_cast<int32_t>(static_cast<uint32_t>(little_endian(in, 4, command)));
}

inline double read_float64(std::string_view in, const char* command) {
  double v = std::bit_cast<double>(little_endian(in, 8, command));
  if (!std::isfinite(v) || v < 0) bad_payload(command, "must be a finite number >= 0");
  return v;
}

inline format read_format(std::string_view in, const char* command) {
  if (in.empty()) bad_payload(command, "payload too short");
  if (in[0] != 0 && in[0] != 1) bad_payload(command, "format must be 0 (unstructured) or 1 (structured)");
  return static_cast<format>(in[0]);
}

inline json read_json(std::string_view in, const char* command) {
  try {
    return parse_json(in);
  } catch (const error::driver_error& e) {
    bad_payload(command, e.what());
  }
}

inline std::vector<std::string> read_stop(std::string_view in) {
  json v = read_json(in, "SET_STOP");
  if (!v.is_array()) bad_payload("SET_STOP", "must be a JSON array of strings");
  std::vector<std::string> out;
  for (const json& s : v) {
    if (!s.is_string()) bad_payload("SET_STOP", "must be a JSON array of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

inline std::vector<tool> read_tools(std::string_view in) {
  json v = read_json(in, "SET_TOOLS");
  if (!v.is_array()) bad_payload("SET_TOOLS", "must be a JSON array of tools");
  std::vector<tool> out;
  for (const json& t : v) out.push_back(tool_from_json(t));
  return out;
}

inline json read_extra(std::string_view in) {
  json v = read_json(in, "SET_EXTRA");
  if (!v.is_object()) bad_payload("SET_EXTRA", "must be a JSON object");
  return v;
}

}  // namespace detail

// The config codec: applies one config ioctl to `config`. `not_mine` for
// anything that is not 0x01..0x0B (the host then asks the queries); a
// malformed payload throws bentos::error::invalid_argument and leaves
// `config` as it was.
inline apply_result apply_config_ioctl(uint32_t cmd, std::string_view in, inference_config& config) {
  using namespace detail;
  std::optional<uint32_t> nr = command_number(cmd);
  if (!nr) return apply_result::not_mine;
  switch (*nr) {
    case command::set_max_tokens: {
      int32_t v = read_int32(in, "SET_MAX_TOKENS");
      if (v < 1) bad_payload("SET_MAX_TOKENS", "must be at least 1");
      config.max_tokens = v;
      break;
    }
    case command::set_temperature: config.temperature = read_float64(in, "SET_TEMPERATURE"); break;
    case command::set_top_p: config.top_p = read_float64(in, "SET_TOP_P"); break;
    case command::set_stop: config.stop = read_stop(in); break;
    case command::set_thinking_budget: {
      int32_t v = read_int32(in, "SET_THINKING_BUDGET");
      if (v < 0) bad_payload("SET_THINKING_BUDGET", "must not be negative");
      config.thinking_budget = v;
      break;
    }
    case command::set_input_format: config.input_format = read_format(in, "SET_INPUT_FORMAT"); break;
    case command::set_output_format: config.output_format = read_format(in, "SET_OUTPUT_FORMAT"); break;
    case command::set_tools: config.tools = read_tools(in); break;
    case command::set_tool_choice: {
      json v = read_json(in, "SET_TOOL_CHOICE");
      config.tool_choice = tool_choice_from_json(v);
      break;
    }
    case command::set_extra: config.extra = read_extra(in); break;
    case command::set_system:
      if (!valid_utf8(in)) bad_payload("SET_SYSTEM", "not valid UTF-8");
      config.system = std::string(in);
      break;
    default: return apply_result::not_mine;
  }
  return apply_result::recognised;
}

}  // namespace bentos::inference
