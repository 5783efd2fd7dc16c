#include "settings.h"

#include <bentos/driver/errors.hpp>
#include <bentos/inference/json.hpp>
#include <bentos/inference/names.hpp>

#include <algorithm>
#include <limits>
#include <string_view>

namespace bentos::llm {

namespace {

[[noreturn]] void refuse(const std::string& why) { throw bentos::error::invalid_argument("llm: " + why); }

int64_t int_in(const bentos::device_config& c, const char* key, int64_t fallback, int64_t lo, int64_t hi) {
  const int64_t v = c.int_or(key, fallback);
  if (v < lo || v > hi) {
    refuse(std::string("config key '") + key + "' must be within " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  return v;
}

std::string base_url_of(const bentos::device_config& c, ProviderKind provider) {
  std::string url = c.string_or("base_url", provider == ProviderKind::anthropic ? "https://api.anthropic.com"
                                                                                 : "https://api.openai.com");
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    refuse("config key 'base_url' must start with http:// or https:// (got '" + url + "')");
  }
  while (url.ends_with("/")) url.pop_back();
  // The provider appends /v1/...: a base_url with it would ask for /v1/v1/...
  if (url.ends_with("/v1")) refuse("config key 'base_url' must not end in /v1 (the path is added per API): '" + url + "'");
  return url;
}

KeySource key_source_of(const bentos::device_config& c) {
  KeySource out;
  int given = 0;
  auto take = [&](const char* key, KeySource::Kind kind) {
    std::optional<std::string> v = c.get_string(key);
    if (!v) return;
    if (v->empty()) refuse(std::string("config key '") + key + "' must not be empty");
    ++given;
    out = KeySource{kind, *v};
  };
  take("api_key_file", KeySource::Kind::file);
  take("api_key_credential", KeySource::Kind::credential);
  take("api_key_env", KeySource::Kind::env);
  if (given > 1) refuse("give at most one of api_key_file, api_key_credential, api_key_env");
  if (out.kind == KeySource::Kind::credential && out.name.find('/') != std::string::npos) {
    refuse("config key 'api_key_credential' is a credential name, not a path: '" + out.name + "'");
  }
  return out;
}

inference::capabilities default_info(ProviderKind provider) {
  using inference::stop_reason;
  inference::capabilities info;
  info.provider = provider_name(provider);
  if (provider == ProviderKind::anthropic) {
    info.max_context_tokens = 200'000;
    info.max_output_tokens = 8192;
    info.supports_thinking = true;
    info.supported_stop_reasons = {stop_reason::end_turn, stop_reason::max_tokens, stop_reason::stop_sequence,
                                   stop_reason::tool_use};
  } else {
    info.max_context_tokens = 128'000;
    info.max_output_tokens = 16'384;
    info.supports_thinking = false;
    // Chat Completions says "stop" for a stop sequence too (-> end_turn).
    info.supported_stop_reasons = {stop_reason::end_turn, stop_reason::max_tokens, stop_reason::tool_use,
                                   stop_reason::content_filter};
  }
  info.supports_tools = true;
  info.supports_images = true;
  info.supports_streaming = true;
  return info;
}

std::vector<inference::stop_reason> stop_reasons_of(std::string_view raw) {
  inference::json v = inference::json::parse(raw, nullptr, false);
  if (!v.is_array()) refuse("config key 'supported_stop_reasons' must be an array of stop reason names");
  std::vector<inference::stop_reason> out;
  for (const auto& item : v) {
    std::optional<inference::stop_reason> r;
    if (item.is_string()) r = inference::parse_stop_reason(item.get<std::string>());
    if (!r) refuse("config key 'supported_stop_reasons': unknown stop reason " + item.dump());
    out.push_back(*r);
  }
  return out;
}

void apply_info_overrides(const bentos::device_config& c, inference::capabilities& info) {
  constexpr int64_t big = std::numeric_limits<int32_t>::max();
  info.max_context_tokens = int_in(c, "max_context_tokens", info.max_context_tokens, 0, big);
  info.max_output_tokens = int_in(c, "max_output_tokens", info.max_output_tokens, 0, big);
  info.supports_thinking = c.bool_or("supports_thinking", info.supports_thinking);
  info.supports_tools = c.bool_or("supports_tools", info.supports_tools);
  info.supports_images = c.bool_or("supports_images", info.supports_images);
  info.supports_streaming = c.bool_or("supports_streaming", info.supports_streaming);
  if (auto raw = c.raw("supported_stop_reasons")) info.supported_stop_reasons = stop_reasons_of(*raw);
}

}  // namespace

const char* provider_name(ProviderKind kind) { return kind == ProviderKind::anthropic ? "anthropic" : "openai"; }

const std::vector<std::string>& known_config_keys() {
  static const std::vector<std::string> keys = {
      "provider",           "model",              "base_url",          "api_key_file",
      "api_key_credential", "api_key_env",        "default_max_tokens", "max_retries",
      "connect_timeout_ms", "idle_timeout_ms",    "max_concurrent_calls", "max_context_tokens",
      "max_output_tokens",  "supports_thinking",  "supports_tools",    "supports_images",
      "supports_streaming", "supported_stop_reasons"};
  return keys;
}

DeviceSettings parse_settings(const bentos::device_config& c) {
  try {
    const auto& known = known_config_keys();
    for (const std::string& key : c.keys()) {
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      refuse("unknown config key '" + key + "'; known: " + list);
    }
    DeviceSettings s;
    const std::string provider = c.string_or("provider", "");
    if (provider == "anthropic") {
      s.provider = ProviderKind::anthropic;
    } else if (provider == "openai") {
      s.provider = ProviderKind::openai;
    } else {
      refuse("config key 'provider' must be \"anthropic\" or \"openai\"" +
             (provider.empty() ? std::string(" (it is required)") : " (got '" + provider + "')"));
    }
    s.model = c.string_or("model", "");
    if (s.model.empty()) refuse("config key 'model' is required (the provider's model name)");
    s.base_url = base_url_of(c, s.provider);
    s.key = key_source_of(c);
    s.default_max_tokens = static_cast<int32_t>(int_in(c, "default_max_tokens", 4096, 1, std::numeric_limits<int32_t>::max()));
    s.max_retries = static_cast<int>(int_in(c, "max_retries", 2, 0, 10));
    s.connect_timeout_ms = static_cast<long>(int_in(c, "connect_timeout_ms", 10'000, 0, 3'600'000));
    s.idle_timeout_ms = static_cast<long>(int_in(c, "idle_timeout_ms", 120'000, 0, 3'600'000));
    s.max_concurrent_calls = int_in(c, "max_concurrent_calls", 64, 1, 100'000);
    s.info = default_info(s.provider);
    s.info.model = s.model;
    apply_info_overrides(c, s.info);
    return s;
  } catch (const bentos::error::driver_error& e) {
    const std::string what = e.what();
    if (what.starts_with("llm: ")) throw;
    refuse(what);  // the scanner's message, e.g. "config key 'x' must be an integer"
  }
}

}  // namespace bentos::llm
