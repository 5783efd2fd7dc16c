/*
 * bentos/inference/json.hpp - part of the inference subsystem (bentos/inference.hpp).
 * The JSON of inference.md §3..§5 for every type in types.hpp.
 *
 * Encoding (to_json, encode) writes the contract's exact bytes: compact,
 * snake_case keys in the order the contract lists them, optional members
 * left out (or null where the contract says null), `"v":1` first in every
 * chunk, a message's `content` always present. Text that is not valid
 * UTF-8 (it can only come from a provider) is written with U+FFFD in its
 * place rather than failing the whole record.
 *
 * Decoding (*_from_json, parse_json) is strict about what it reads and
 * throws bentos::error::invalid_argument (EINVAL) for invalid JSON, invalid
 * UTF-8, a missing required member, a member of the wrong type or a name
 * outside the contract. Members it does not know are ignored, and a null
 * member reads as absent, so that newer writers stay readable.
 *
 * Pure functions: any thread.
 */
#pragma once

#include "bentos/driver/errors.hpp"
#include "bentos/inference/names.hpp"
#include "bentos/inference/types.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace bentos::inference {

inline constexpr std::string_view mime_thinking = "text/x-thinking";
inline constexpr std::string_view mime_redacted_thinking = "application/x-redacted-thinking";

// ---- Encoding ----

// Compact text of a JSON value (no spaces, UTF-8 as is).
inline std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

inline json to_json(const part& p) {
  json o = json::object();
  std::visit(
      [&o](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, text_part>) {
          o["mime_type"] = v.mime_type;
          o["text"] = v.text;
        } else if constexpr (std::is_same_v<T, thinking_part>) {
          o["mime_type"] = mime_thinking;
          o["text"] = v.text;
          if (v.signature) o["signature"] = *v.signature;
        } else if constexpr (std::is_same_v<T, redacted_thinking_part>) {
          o["mime_type"] = mime_redacted_thinking;
          o["data"] = v.data;
        } else {
          o["mime_type"] = v.mime_type;
          o["data"] = v.data;
          o["source"] = name(v.source);
        }
      },
      p);
  return o;
}

inline json to_json(const function_call& c) {
  json o = json::object();
  o["id"] = c.id;
  o["name"] = c.name;
  o["arguments"] = c.arguments;
  return o;
}

inline json to_json(const message& m) {
  json o = json::object();
  o["role"] = name(m.role);
  json content = json::array();
  for (const part& p : m.content) content.push_back(to_json(p));
  o["content"] = std::move(content);
  if (!m.function_calls.empty()) {
    json calls = json::array();
    for (const function_call& c : m.function_calls) calls.push_back(to_json(c));
    o["function_calls"] = std::move(calls);
  }
  if (m.function_call_id) o["function_call_id"] = *m.function_call_id;
  return o;
}

inline json to_json(const tool& t) {
  json o = json::object();
  o["name"] = t.name;
  o["description"] = t.description;
  o["input_schema"] = t.input_schema;
  return o;
}

inline json to_json(const tool_choice& c) {
  json o = json::object();
  o["type"] = name(c.kind);
  if (c.kind == tool_choice::mode::tool) o["name"] = c.name;
  return o;
}

inline json to_json(const usage& u) {
  auto maybe = [](const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); };
  json o = json::object();
  o["input_tokens"] = u.input_tokens;
  o["output_tokens"] = u.output_tokens;
  o["cache_read_tokens"] = maybe(u.cache_read_tokens);
  o["cache_write_tokens"] = maybe(u.cache_write_tokens);
  o["reasoning_tokens"] = maybe(u.reasoning_tokens);
  return o;
}

inline json to_json(const metadata& m) {
  json o = json::object();
  o["model"] = m.model;
  o["stop_reason"] = name(m.stop_reason);
  if (m.usage) o["usage"] = to_json(*m.usage);
  return o;
}

inline json to_json(const provider_error& e) {
  json o = json::object();
  o["kind"] = name(e.kind);
  o["message"] = e.message;
  if (e.provider_code) o["provider_code"] = *e.provider_code;
  return o;
}

inline json to_json(const capabilities& c) {
  auto names = [](const auto& values) {
    json a = json::array();
    for (auto v : values) a.push_back(name(v));
    return a;
  };
  json o = json::object();
  o["model"] = c.model;
  o["provider"] = c.provider;
  o["max_context_tokens"] = c.max_context_tokens;
  o["max_output_tokens"] = c.max_output_tokens;
  o["supports_thinking"] = c.supports_thinking;
  o["supports_tools"] = c.supports_tools;
  o["supports_images"] = c.supports_images;
  o["supports_streaming"] = c.supports_streaming;
  o["supported_input_formats"] = names(c.supported_input_formats);
  o["supported_output_formats"] = names(c.supported_output_formats);
  o["supported_stop_reasons"] = names(c.supported_stop_reasons);
  return o;
}

inline std::string_view chunk_type(const chunk& c) {
  static constexpr std::string_view types[] = {"text_delta",      "thinking_delta",  "redacted_thinking_delta",
                                               "tool_call_start", "tool_call_delta", "complete"};
  static_assert(std::size(types) == std::variant_size_v<chunk>);
  return types[c.index()];
}

inline json to_json(const chunk& c) {
  json o = json::object();
  o["v"] = 1;
  o["type"] = chunk_type(c);
  std::visit(
      [&o](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, text_delta> || std::is_same_v<T, thinking_delta>) {
          o["text"] = v.text;
        } else if constexpr (std::is_same_v<T, redacted_thinking_delta>) {
          o["data"] = v.data;
        } else if constexpr (std::is_same_v<T, tool_call_start>) {
          o["id"] = v.id;
          o["name"] = v.name;
        } else if constexpr (std::is_same_v<T, tool_call_delta>) {
          o["id"] = v.id;
          o["arguments_delta"] = v.arguments_delta;
        } else {
          o["metadata"] = to_json(v.metadata);
        }
      },
      c);
  return o;
}

// The compact JSON text of any value above.
template <class T>
std::string encode(const T& value) {
  return dump(to_json(value));
}

// ---- Decoding ----

namespace detail {

[[noreturn]] inline void bad_json(const std::string& what) { throw error::invalid_argument("inference: " + what); }

// The member, or nullptr when absent or null.
inline const json* member(const json& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() || it->is_null() ? nullptr : &*it;
}

inline const json& object(const json& v, const char* what) {
  if (!v.is_object()) bad_json(std::string(what) + " must be a JSON object");
  return v;
}

inline std::optional<std::string> opt_string(const json& o, const char* key) {
  const json* v = member(o, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) bad_json(std::string("'") + key + "' must be a string");
  return v->get<std::string>();
}

inline std::string req_string(const json& o, const char* key) {
  auto v = opt_string(o, key);
  if (!v) bad_json(std::string("'") + key + "' is required");
  return *v;
}

inline std::optional<int64_t> opt_count(const json& o, const char* key) {
  const json* v = member(o, key);
  if (!v) return std::nullopt;
  // An unsigned value beyond int64 would wrap in get<int64_t>().
  bool fits = v->is_number_integer() &&
              (!v->is_number_unsigned() || v->get<uint64_t>() <= uint64_t(std::numeric_limits<int64_t>::max()));
  if (!fits || v->get<int64_t>() < 0) bad_json(std::string("'") + key + "' must be a non-negative integer");
  return v->get<int64_t>();
}

inline int64_t req_count(const json& o, const char* key) {
  auto v = opt_count(o, key);
  if (!v) bad_json(std::string("'") + key + "' is required");
  return *v;
}

inline bool req_bool(const json& o, const char* key) {
  const json* v = member(o, key);
  if (!v || !v->is_boolean()) bad_json(std::string("'") + key + "' must be true or false");
  return v->get<bool>();
}

inline const json& req_array(const json& o, const char* key) {
  const json* v = member(o, key);
  if (!v || !v->is_array()) bad_json(std::string("'") + key + "' must be an array");
  return *v;
}

template <class E>
E req_name(const json& o, const char* key, std::optional<E> (*parse)(std::string_view)) {
  std::string n = req_string(o, key);
  std::optional<E> e = parse(n);
  if (!e) bad_json(std::string("'") + key + "' has an unknown value '" + n + "'");
  return *e;
}

template <class E>
std::vector<E> name_list(const json& o, const char* key, std::optional<E> (*parse)(std::string_view)) {
  std::vector<E> out;
  for (const json& v : req_array(o, key)) {
    std::optional<E> e = v.is_string() ? parse(v.get<std::string>()) : std::nullopt;
    if (!e) bad_json(std::string("'") + key + "' holds an unknown value");
    out.push_back(*e);
  }
  return out;
}

}  // namespace detail

// Parses JSON text; invalid JSON or invalid UTF-8 -> EINVAL.
inline json parse_json(std::string_view text) {
  json v = json::parse(text.begin(), text.end(), nullptr, false);
  if (v.is_discarded()) detail::bad_json("invalid JSON");
  return v;
}

inline part part_from_json(const json& v) {
  using namespace detail;
  const json& o = object(v, "a part");
  std::string mime = opt_string(o, "mime_type").value_or("text/plain");
  if (mime == mime_thinking) return thinking_part{req_string(o, "text"), opt_string(o, "signature")};
  if (mime == mime_redacted_thinking) return redacted_thinking_part{req_string(o, "data")};
  if (mime.starts_with("text/")) return text_part{mime, req_string(o, "text")};
  if (mime.starts_with("image/")) {
    image_source source = image_source::base64;
    if (member(o, "source")) source = req_name(o, "source", &parse_image_source);
    return image_part{mime, req_string(o, "data"), source};
  }
  bad_json("unsupported part mime_type '" + mime + "'");
}

inline function_call function_call_from_json(const json& v) {
  using namespace detail;
  const json& o = object(v, "a function call");
  function_call c{req_string(o, "id"), req_string(o, "name"), json::object()};
  if (const json* args = member(o, "arguments")) c.arguments = object(*args, "'arguments'");
  return c;
}

inline message message_from_json(const json& v) {
  using namespace detail;
  const json& o = object(v, "a message");
  message m;
  m.role = req_name(o, "role", &parse_role);
  if (member(o, "content")) {
    for (const json& p : req_array(o, "content")) m.content.push_back(part_from_json(p));
  }
  if (member(o, "function_calls")) {
    for (const json& c : req_array(o, "function_calls")) m.function_calls.push_back(function_call_from_json(c));
  }
  m.function_call_id = opt_string(o, "function_call_id");
  return m;
}

inline tool tool_from_json(const json& v) {
  using namespace detail;
  const json& o = object(v, "a tool");
  tool t{req_string(o, "name"), opt_string(o, "description").value_or(""), json::object()};
  const json* schema = member(o, "input_schema");
  if (!schema) bad_json("a tool needs 'input_schema'");
  t.input_schema = object(*schema, "'input_schema'");
  return t;
}

// "auto" | "any" | "none" | {"type": those} | {"type":"tool","name":N}.
inline tool_choice tool_choice_from_json(const json& v) {
  using namespace detail;
  if (v.is_string()) {
    auto mode = parse_tool_choice_mode(v.get<std::string>());
    if (!mode || *mode == tool_choice::mode::tool) bad_json("tool_choice must be auto, any or none");
    return tool_choice{*mode, {}};
  }
  const json& o = object(v, "tool_choice");
  tool_choice c{req_name(o, "type", &parse_tool_choice_mode), {}};
  if (c.kind == tool_choice::mode::tool) c.name = req_string(o, "name");
  return c;
}

inline usage usage_from_json(const json& v) {
  using namespace detail;
  const json& o = object(v, "usage");
  return usage{req_count(o, "input_tokens"), req_count(o, "output_tokens"), opt_count(o, "cache_read_tokens"),
               opt_count(o, "cache_write_tokens"), opt_count(o, "reasoning_tokens")};
}

inline metadata metadata_from_json(const json& v) {
  using namespace detail;
  const json& o = object(v, "metadata");
  metadata m{req_string(o, "model"), req_name(o, "stop_reason", &parse_stop_reason), std::nullopt};
  if (const json* u = member(o, "usage")) m.usage = usage_from_json(*u);
  return m;
}

inline provider_error provider_error_from_json(const json& v) {
  using namespace detail;
  const json& o = object(v, "an error");
  return provider_error{req_name(o, "kind", &parse_error_kind), req_string(o, "message"),
                        opt_string(o, "provider_code"), std::nullopt};
}

inline capabilities capabilities_from_json(const json& v) {
  using namespace detail;
  const json& o = object(v, "capabilities");
  capabilities c;
  c.model = req_string(o, "model");
  c.provider = req_string(o, "provider");
  c.max_context_tokens = req_count(o, "max_context_tokens");
  c.max_output_tokens = req_count(o, "max_output_tokens");
  c.supports_thinking = req_bool(o, "supports_thinking");
  c.supports_tools = req_bool(o, "supports_tools");
  c.supports_images = req_bool(o, "supports_images");
  c.supports_streaming = req_bool(o, "supports_streaming");
  c.supported_input_formats = name_list(o, "supported_input_formats", &parse_format);
  c.supported_output_formats = name_list(o, "supported_output_formats", &parse_format);
  c.supported_stop_reasons = name_list(o, "supported_stop_reasons", &parse_stop_reason);
  return c;
}

inline chunk chunk_from_json(const json& v) {
  using namespace detail;
  const json& o = object(v, "a chunk");
  const json* version = member(o, "v");
  if (!version || !version->is_number_integer() || version->get<int64_t>() != 1) bad_json("a chunk needs \"v\":1");
  std::string type = req_string(o, "type");
  if (type == "text_delta") return text_delta{req_string(o, "text")};
  if (type == "thinking_delta") return thinking_delta{req_string(o, "text")};
  if (type == "redacted_thinking_delta") return redacted_thinking_delta{req_string(o, "data")};
  if (type == "tool_call_start") return tool_call_start{req_string(o, "id"), req_string(o, "name")};
  if (type == "tool_call_delta") return tool_call_delta{req_string(o, "id"), req_string(o, "arguments_delta")};
  if (type == "complete") {
    const json* m = member(o, "metadata");
    if (!m) bad_json("a complete chunk needs 'metadata'");
    return complete{metadata_from_json(*m)};
  }
  bad_json("unknown chunk type '" + type + "'");
}

}  // namespace bentos::inference
