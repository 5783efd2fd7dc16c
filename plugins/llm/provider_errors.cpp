#include "provider_errors.h"

#include <bentos/inference/errors.hpp>
#include <bentos/inference/names.hpp>

#include <cerrno>

namespace bentos::llm {

namespace {

using inference::error_kind;

std::string string_member(const inference::json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();  // some servers send a numeric code
  return {};
}

bool mentions(std::string_view text, std::string_view word) { return inference::detail::contains_nocase(text, word); }

// Both the type and the code may hold the telling word.
bool says_content_policy(const ErrorFields& f) {
  for (std::string_view s : {std::string_view(f.type), std::string_view(f.code)}) {
    if (mentions(s, "content_policy") || mentions(s, "content_filter") || mentions(s, "safety")) return true;
  }
  return false;
}

// OpenAI-style type/code names the shared table does not know, for an
// error event inside a stream (no status to go by).
error_kind kind_of_name(std::string_view name) {
  error_kind k = inference::kind_from_error_type(name);
  if (k != error_kind::unknown) return k;
  if (name == "server_error" || name == "internal_error") return error_kind::server_error;
  if (name == "rate_limit_exceeded" || name == "requests" || name == "tokens") return error_kind::rate_limited;
  if (name == "invalid_api_key" || name == "authentication") return error_kind::authentication;
  if (name == "context_length_exceeded") return error_kind::context_exceeded;
  if (name == "timeout_error") return error_kind::timeout;
  return error_kind::unknown;
}

std::string code_of(const ErrorFields& f, bool code_first) {
  if (code_first && !f.code.empty()) return f.code;
  return f.type.empty() ? f.code : f.type;
}

}  // namespace

ErrorFields error_fields(const inference::json& value) {
  ErrorFields f;
  if (!value.is_object()) return f;
  auto e = value.find("error");
  if (e != value.end() && e->is_object()) {
    f.type = string_member(*e, "type");
    f.code = string_member(*e, "code");
    f.message = string_member(*e, "message");
  } else if (e != value.end() && e->is_string()) {
    f.message = e->get<std::string>();  // {"error": "text"} (llama.cpp, Ollama)
  } else {
    f.type = string_member(value, "type");
    f.message = string_member(value, "message");
  }
  return f;
}

ErrorFields error_fields(std::string_view body) {
  inference::json v = inference::json::parse(body, nullptr, false);
  return v.is_discarded() ? ErrorFields{} : error_fields(v);
}

inference::provider_error http_error(long status, const ErrorFields& f, bool code_first) {
  inference::provider_error e;
  const int s = static_cast<int>(status);
  e.kind = inference::classify_http(s, f.type, f.message);
  if (!f.code.empty()) {
    // The code may be the more telling of the two (quota, context length).
    const error_kind by_code = inference::classify_http(s, f.code, f.message);
    if (by_code == error_kind::insufficient_quota || by_code == error_kind::context_exceeded ||
        e.kind == error_kind::unknown) {
      e.kind = by_code;
    }
  }
  if (e.kind == error_kind::unknown) e.kind = kind_of_name(f.type.empty() ? f.code : f.type);
  if ((s == 400 || s == 403 || e.kind == error_kind::unknown) && says_content_policy(f)) {
    e.kind = error_kind::content_policy;
  }
  e.message = f.message.empty() ? "the provider answered HTTP " + std::to_string(status) + " without an error message"
                                : f.message;
  if (std::string code = code_of(f, code_first); !code.empty()) e.provider_code = code;
  return e;
}

inference::provider_error stream_error(const ErrorFields& f, bool code_first) {
  inference::provider_error e;
  e.kind = kind_of_name(f.type);
  if (e.kind == error_kind::unknown && !f.code.empty()) e.kind = kind_of_name(f.code);
  if (says_content_policy(f)) e.kind = error_kind::content_policy;
  if (e.kind == error_kind::invalid_request && inference::says_context_too_long(f.message)) {
    e.kind = error_kind::context_exceeded;
  }
  e.message = f.message.empty() ? "the provider sent an error event without a message" : f.message;
  if (std::string code = code_of(f, code_first); !code.empty()) e.provider_code = code;
  return e;
}

inference::provider_error transport_error(const HttpCompletion& c, const std::string& endpoint, long idle_timeout_ms) {
  inference::provider_error e;
  switch (c.error) {
    case HttpError::connection_refused:
      e.kind = error_kind::network_error;
      e.errno_value = ECONNREFUSED;
      e.message = "cannot connect to " + endpoint + ": connection refused (is the provider running?)";
      break;
    case HttpError::idle_timeout:
      e.kind = error_kind::timeout;
      e.message = "no data from " + endpoint + " for " + std::to_string(idle_timeout_ms) + " ms (idle_timeout_ms)";
      break;
    case HttpError::cancelled:
      e.kind = error_kind::network_error;
      e.message = "the call was stopped: the device is shutting down";
      break;
    default:
      e.kind = error_kind::network_error;
      e.message = "network error talking to " + endpoint + ": " + (c.message.empty() ? "connection lost" : c.message);
      break;
  }
  return e;
}

std::string redact(std::string text, const std::optional<std::string>& secret) {
  static constexpr std::string_view mark = "[redacted]";
  if (secret && !secret->empty()) {
    for (size_t at = text.find(*secret); at != std::string::npos; at = text.find(*secret, at + mark.size())) {
      text.replace(at, secret->size(), mark);
    }
  }
  static constexpr std::string_view phrase = "API key provided: ";
  for (size_t at = text.find(phrase); at != std::string::npos; at = text.find(phrase, at + 1)) {
    const size_t begin = at + phrase.size();
    size_t end = text.find_first_of(" \t\n,", begin);
    if (end == std::string::npos) end = text.size();
    if (end > begin && text[end - 1] == '.') --end;
    text.replace(begin, end - begin, mark);
  }
  return text;
}

}  // namespace bentos::llm
