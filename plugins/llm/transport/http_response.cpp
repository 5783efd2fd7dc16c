// HttpResponse's header lookups, apart from the engine: the provider layer
// uses them on the engine thread and its tests without an engine.
#include <curl/curl.h>

#include <cctype>
#include <charconv>

#include "http_engine.h"

namespace bentos::llm {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) return std::string_view(value);
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> HttpResponse::retry_after(std::chrono::system_clock::time_point now) const {
  const auto value = header("Retry-After");
  if (!value || value->empty()) return std::nullopt;
  // delta-seconds (RFC 9110 §10.2.3); providers also send fractions
  // ("0.5"), read here to the millisecond.
  if (std::isdigit(static_cast<unsigned char>(value->front()))) {
    long long seconds = 0;
    const char* end = value->data() + value->size();
    auto [p, ec] = std::from_chars(value->data(), end, seconds);
    if (ec != std::errc{} || seconds > 86'400'000) return std::nullopt;
    long long millis = seconds * 1000;
    if (p != end && *p == '.') {
      long long scale = 100;
      for (++p; p != end && std::isdigit(static_cast<unsigned char>(*p)); ++p, scale /= 10) millis += (*p - '0') * scale;
    }
    if (p != end) return std::nullopt;
    return std::chrono::milliseconds(millis);
  }
  // An HTTP-date: curl_getdate reads the formats RFC 9110 allows.
  const std::string text(*value);
  const time_t when = curl_getdate(text.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  const auto delay = std::chrono::system_clock::from_time_t(when) - now;
  return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(delay));
}

}  // namespace bentos::llm
