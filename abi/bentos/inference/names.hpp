/*
 * bentos/inference/names.hpp - part of the inference subsystem (bentos/inference.hpp).
 * The wire names of the enums in types.hpp, both ways. A name that is not
 * in the contract reads as nullopt; the JSON decoders turn that into EINVAL.
 * Pure functions: any thread.
 */
#pragma once

#include "bentos/inference/types.hpp"

#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace bentos::inference {

namespace detail {

// One table per enum, in declaration order, so name() is an index and
// parse() a scan over at most a dozen entries.
template <class E, size_t N>
using name_table = std::array<std::pair<E, std::string_view>, N>;

inline constexpr name_table<role, 4> role_names{{
    {role::system, "system"},
    {role::user, "user"},
    {role::assistant, "assistant"},
    {role::function_result, "function_result"},
}};
inline constexpr name_table<format, 2> format_names{{
    {format::unstructured, "unstructured"},
    {format::structured, "structured"},
}};
inline constexpr name_table<stop_reason, 5> stop_reason_names{{
    {stop_reason::end_turn, "end_turn"},
    {stop_reason::max_tokens, "max_tokens"},
    {stop_reason::stop_sequence, "stop_sequence"},
    {stop_reason::tool_use, "tool_use"},
    {stop_reason::content_filter, "content_filter"},
}};
inline constexpr name_table<error_kind, 12> error_kind_names{{
    {error_kind::invalid_request, "invalid_request"},
    {error_kind::authentication, "authentication"},
    {error_kind::permission, "permission"},
    {error_kind::context_exceeded, "context_exceeded"},
    {error_kind::rate_limited, "rate_limited"},
    {error_kind::insufficient_quota, "insufficient_quota"},
    {error_kind::server_error, "server_error"},
    {error_kind::overloaded, "overloaded"},
    {error_kind::network_error, "network_error"},
    {error_kind::timeout, "timeout"},
    {error_kind::content_policy, "content_policy"},
    {error_kind::unknown, "unknown"},
}};
inline constexpr name_table<image_source, 2> image_source_names{{
    {image_source::base64, "base64"},
    {image_source::url, "url"},
}};
inline constexpr name_table<tool_choice::mode, 4> tool_choice_names{{
    {tool_choice::mode::auto_, "auto"},
    {tool_choice::mode::any, "any"},
    {tool_choice::mode::none, "none"},
    {tool_choice::mode::tool, "tool"},
}};

template <class E, size_t N>
constexpr std::string_view lookup_name(const name_table<E, N>& table, E value) {
  for (const auto& [e, n] : table) {
    if (e == value) return n;
  }
  return "unknown";
}

template <class E, size_t N>
constexpr std::optional<E> lookup_value(const name_table<E, N>& table, std::string_view name) {
  for (const auto& [e, n] : table) {
    if (n == name) return e;
  }
  return std::nullopt;
}

}  // namespace detail

constexpr std::string_view name(role v) { return detail::lookup_name(detail::role_names, v); }
constexpr std::string_view name(format v) { return detail::lookup_name(detail::format_names, v); }
constexpr std::string_view name(stop_reason v) { return detail::lookup_name(detail::stop_reason_names, v); }
constexpr std::string_view name(error_kind v) { return detail::lookup_name(detail::error_kind_names, v); }
constexpr std::string_view name(image_source v) { return detail::lookup_name(detail::image_source_names, v); }
constexpr std::string_view name(tool_choice::mode v) { return detail::lookup_name(detail::tool_choice_names, v); }

constexpr std::optional<role> parse_role(std::string_view n) { return detail::lookup_value(detail::role_names, n); }
constexpr std::optional<format> parse_format(std::string_view n) { return detail::lookup_value(detail::format_names, n); }
constexpr std::optional<stop_reason> parse_stop_reason(std::string_view n) {
  return detail::lookup_value(detail::stop_reason_names, n);
}
constexpr std::optional<error_kind> parse_error_kind(std::string_view n) {
  return detail::lookup_value(detail::error_kind_names, n);
}
constexpr std::optional<image_source> parse_image_source(std::string_view n) {
  return detail::lookup_value(detail::image_source_names, n);
}
constexpr std::optional<tool_choice::mode> parse_tool_choice_mode(std::string_view n) {
  return detail::lookup_value(detail::tool_choice_names, n);
}

}  // namespace bentos::inference
