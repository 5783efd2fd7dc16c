// Provider errors (inference.md §6) from what the wire gives us: an HTTP
// error answer's JSON body, an error event inside a 200 stream, or a
// transport failure. Both APIs put {"type","message","code"?} under
// "error"; what differs (which field is the provider_code) is a flag.
//
// Pure functions: any thread.
#pragma once

#include "http_engine.h"

#include <bentos/inference/types.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace bentos::llm {

// The "error" object of a provider's error JSON, whatever was found.
struct ErrorFields {
  std::string type;
  std::string code;
  std::string message;
};

// From an error body: {"error": {...}} (both APIs), or {"type","message"},
// or a plain {"error": "text"}. Empty fields when the body is not JSON.
ErrorFields error_fields(std::string_view body);
ErrorFields error_fields(const inference::json& value);

// An HTTP error answer. `code_first`: the code, when present, is the
// provider_code (OpenAI's "invalid_api_key" says more than its type
// "invalid_request_error"); otherwise the type is (Anthropic).
inference::provider_error http_error(long status, const ErrorFields& f, bool code_first);

// An error event inside a 200 stream: classified by its type (or code) as
// the status that type stands for.
inference::provider_error stream_error(const ErrorFields& f, bool code_first);

// A transfer that did not complete (refused, lost, idle too long).
// `endpoint` names where we tried to go (base_url), for the message.
inference::provider_error transport_error(const HttpCompletion& c, const std::string& endpoint, long idle_timeout_ms);

// `text` with every occurrence of `secret` (and the token after an
// "API key provided: " phrase, which OpenAI fills with a masked key)
// replaced: provider messages go to GET_ERROR and the log.
std::string redact(std::string text, const std::optional<std::string>& secret);

}  // namespace bentos::llm
