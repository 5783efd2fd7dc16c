/*
 * bentos/inference/errors.hpp - part of the inference subsystem (bentos/inference.hpp).
 * Provider errors (inference.md §6): the errno of each kind, how an HTTP
 * status and the provider's error type become a kind, which kinds are
 * retried, and provider_failure, the exception that carries a provider
 * error out of provider::start. Pure functions and a value type: any thread.
 */
#pragma once

#include "bentos/driver/errors.hpp"
#include "bentos/inference/names.hpp"
#include "bentos/inference/types.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <string>
#include <string_view>

namespace bentos::inference {

// The errno a cycle ends with for each kind (§6: it says what happened).
constexpr int errno_of(error_kind kind) {
  switch (kind) {
    case error_kind::invalid_request: return EINVAL;
    case error_kind::authentication: return EACCES;
    case error_kind::permission: return EPERM;
    case error_kind::context_exceeded: return E2BIG;
    case error_kind::rate_limited: return EAGAIN;
    case error_kind::insufficient_quota: return EDQUOT;
    case error_kind::server_error: return EIO;
    case error_kind::overloaded: return EBUSY;
    case error_kind::network_error: return ECONNRESET;
    case error_kind::timeout: return ETIMEDOUT;
    case error_kind::content_policy: return EPERM;
    case error_kind::unknown: return EIO;
  }
  return EIO;
}

// The error's own errno when it has one (ECONNREFUSED), else its kind's.
inline int errno_of(const provider_error& e) {
  return e.errno_value && *e.errno_value > 0 ? *e.errno_value : errno_of(e.kind);
}

// Retried before the first output record only, up to max_retries times.
constexpr bool retryable(error_kind kind) {
  return kind == error_kind::rate_limited || kind == error_kind::overloaded || kind == error_kind::server_error ||
         kind == error_kind::network_error;
}

namespace detail {

inline bool contains_nocase(std::string_view haystack, std::string_view needle) {
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [&](char a, char b) { return lower(a) == lower(b); });
  return it != haystack.end();
}

}  // namespace detail

// Whether a 400's message (or an error code) says the prompt is over the
// context window. Providers word it differently: Anthropic "prompt is too
// long", OpenAI "maximum context length" / code context_length_exceeded,
// llama.cpp and vLLM "exceeds the context size" / "context window".
inline bool says_context_too_long(std::string_view text) {
  static constexpr std::string_view phrases[] = {"prompt is too long", "context length", "context_length",
                                                 "context window",     "context size",   "too many tokens"};
  return std::any_of(std::begin(phrases), std::end(phrases),
                     [&](std::string_view p) { return detail::contains_nocase(text, p); });
}

// The kind an error *type* string stands for: Anthropic's error types (§6),
// plus OpenAI's quota type, so an error event inside an HTTP 200 stream is
// classified as the status it stands for. Unknown types -> unknown.
inline error_kind kind_from_error_type(std::string_view type) {
  if (type == "invalid_request_error" || type == "not_found_error") return error_kind::invalid_request;
  if (type == "authentication_error") return error_kind::authentication;
  if (type == "permission_error") return error_kind::permission;
  if (type == "request_too_large") return error_kind::context_exceeded;
  if (type == "rate_limit_error") return error_kind::rate_limited;
  if (type == "api_error") return error_kind::server_error;
  if (type == "overloaded_error") return error_kind::overloaded;
  if (detail::contains_nocase(type, "quota")) return error_kind::insufficient_quota;
  return error_kind::unknown;
}

// The kind of an HTTP error answer (§6). `type` is the provider's error
// type or code from the body and `message` its message (either may be
// empty). Status 0 or 2xx means "an error event inside a successful
// stream": the type decides. A status outside the table falls back to the
// type, then unknown.
inline error_kind classify_http(int status, std::string_view type = {}, std::string_view message = {}) {
  error_kind kind = error_kind::unknown;
  switch (status) {
    case 400:
    case 404:
    case 422: kind = error_kind::invalid_request; break;
    case 401: kind = error_kind::authentication; break;
    case 402: kind = error_kind::insufficient_quota; break;
    case 403: kind = error_kind::permission; break;
    case 413: kind = error_kind::context_exceeded; break;
    case 429: kind = error_kind::rate_limited; break;
    case 500:
    case 502:
    case 503:
    case 504: kind = error_kind::server_error; break;
    case 529: kind = error_kind::overloaded; break;
    default: kind = kind_from_error_type(type); break;
  }
  if (kind == error_kind::rate_limited && detail::contains_nocase(type, "quota")) {
    kind = error_kind::insufficient_quota;
  }
  // "a 400 whose message says the context is too long"; an in-stream
  // invalid_request_error is the same thing.
  if (kind == error_kind::invalid_request && status != 404 &&
      (says_context_too_long(message) || says_context_too_long(type))) {
    kind = error_kind::context_exceeded;
  }
  return kind;
}

// What provider::start throws when the call fails before it begins (no API
// key: authentication). The driver records failure() as the session's
// last_error and the submit answers errno_of(error). Value type: any thread.
class provider_failure : public error::driver_error {
 public:
  explicit provider_failure(provider_error e)
      : driver_error(errno_of(e), std::string(name(e.kind)) + ": " + e.message), error_(std::move(e)) {}
  const provider_error& failure() const noexcept { return error_; }

 private:
  provider_error error_;
};

}  // namespace bentos::inference
