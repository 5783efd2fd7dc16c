/*
 * bentos/inference/types.hpp - part of the inference subsystem (bentos/inference.hpp).
 * The data model of inference.md §4..§6 as plain values: messages and their
 * parts, function calls, tools, tool choice, usage, metadata, provider
 * errors, capabilities and output chunks. JSON lives in json.hpp.
 *
 * Every type here is a value type: copy it freely, and any thread may use
 * its own copy. Nothing here checks invariants; the JSON decoders do.
 */
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace bentos::inference {

// Every JSON value kept in the model (arguments, schemas, extra) keeps its
// keys in the order they came in, so a round trip gives the same bytes.
using json = nlohmann::ordered_json;

enum class role { system, user, assistant, function_result };

// The two ways a cycle's input is read and its output written (§4, §5).
enum class format : uint8_t { unstructured = 0, structured = 1 };

enum class stop_reason { end_turn, max_tokens, stop_sequence, tool_use, content_filter };

// The error kinds of §6; errors.hpp maps them to errnos.
enum class error_kind {
  invalid_request,
  authentication,
  permission,
  context_exceeded,
  rate_limited,
  insufficient_quota,
  server_error,
  overloaded,
  network_error,
  timeout,
  content_policy,
  unknown,
};

// ---- Message parts (§4), chosen by mime_type ----

// Any text/* other than text/x-thinking.
struct text_part {
  std::string mime_type = "text/plain";
  std::string text;
  bool operator==(const text_part&) const = default;
};

// text/x-thinking; the signature is the provider's proof that the thinking
// is its own, needed to send it back in a later turn.
struct thinking_part {
  std::string text;
  std::optional<std::string> signature;
  bool operator==(const thinking_part&) const = default;
};

// application/x-redacted-thinking: opaque provider data, kept for round trips.
struct redacted_thinking_part {
  std::string data;
  bool operator==(const redacted_thinking_part&) const = default;
};

enum class image_source { base64, url };

// image/*: base64 bytes or a URL in `data`.
struct image_part {
  std::string mime_type = "image/png";
  std::string data;
  image_source source = image_source::base64;
  bool operator==(const image_part&) const = default;
};

using part = std::variant<text_part, thinking_part, redacted_thinking_part, image_part>;

// A function (tool) call an assistant message asks for. `arguments` is a
// JSON object.
struct function_call {
  std::string id;
  std::string name;
  json arguments = json::object();
  bool operator==(const function_call&) const = default;
};

struct message {
  inference::role role = role::user;
  std::vector<part> content;
  std::vector<function_call> function_calls;   // written only when non-empty
  std::optional<std::string> function_call_id;  // function_result: which call it answers
  bool operator==(const message&) const = default;
};

// ---- Request settings (SET_TOOLS, SET_TOOL_CHOICE) ----

struct tool {
  std::string name;
  std::string description;
  json input_schema = json::object();  // a JSON Schema object
  bool operator==(const tool&) const = default;
};

struct tool_choice {
  enum class mode { auto_, any, none, tool };
  mode kind = mode::auto_;
  std::string name;  // the tool, when kind == tool
  bool operator==(const tool_choice&) const = default;
};

// ---- Results (§5, §6) ----

// Token counts; the last three are unknown (JSON null) when the provider
// does not report them.
struct usage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  std::optional<int64_t> cache_read_tokens;
  std::optional<int64_t> cache_write_tokens;
  std::optional<int64_t> reasoning_tokens;
  bool operator==(const usage&) const = default;
};

// What a successful call reports (complete chunk, GET_METADATA).
struct metadata {
  std::string model;
  inference::stop_reason stop_reason = stop_reason::end_turn;
  std::optional<inference::usage> usage;
  bool operator==(const metadata&) const = default;
};

// A failed call (GET_ERROR 0x81). Never holds an API key.
struct provider_error {
  error_kind kind = error_kind::unknown;
  std::string message;
  std::optional<std::string> provider_code;  // the provider's own error type or code
  // Not part of the JSON: the errno to end the cycle with when it must
  // differ from the kind's (ECONNREFUSED for a refused connection).
  std::optional<int> errno_value;
  bool operator==(const provider_error&) const = default;
};

// GET_INFO 0x82.
struct capabilities {
  std::string model;
  std::string provider;
  int64_t max_context_tokens = 0;
  int64_t max_output_tokens = 0;
  bool supports_thinking = false;
  bool supports_tools = false;
  bool supports_images = false;
  bool supports_streaming = true;
  std::vector<format> supported_input_formats{format::unstructured, format::structured};
  std::vector<format> supported_output_formats{format::unstructured, format::structured};
  std::vector<stop_reason> supported_stop_reasons{stop_reason::end_turn, stop_reason::max_tokens,
                                                  stop_reason::stop_sequence, stop_reason::tool_use};
  bool operator==(const capabilities&) const = default;
};

// ---- Output chunks (§5) ----

struct text_delta {
  std::string text;
  bool operator==(const text_delta&) const = default;
};
struct thinking_delta {
  std::string text;
  bool operator==(const thinking_delta&) const = default;
};
struct redacted_thinking_delta {
  std::string data;
  bool operator==(const redacted_thinking_delta&) const = default;
};
struct tool_call_start {
  std::string id;
  std::string name;
  bool operator==(const tool_call_start&) const = default;
};
// A piece of a tool call's arguments as JSON text (not itself valid JSON).
struct tool_call_delta {
  std::string id;
  std::string arguments_delta;
  bool operator==(const tool_call_delta&) const = default;
};
struct complete {
  inference::metadata metadata;
  bool operator==(const complete&) const = default;
};

using chunk = std::variant<text_delta, thinking_delta, redacted_thinking_delta, tool_call_start, tool_call_delta, complete>;

}  // namespace bentos::inference
