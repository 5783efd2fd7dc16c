// The llm device's manifest config (inference.md §8), read once at create.
//
// Value type, built on the host's thread by the driver's constructor and
// then only read (copies go to the provider). Parsing throws
// bentos::error::invalid_argument with a message naming the key, so the
// host refuses the device with it; nothing here reads the key itself
// (api_key.h does).
#pragma once

#include <bentos/driver/device_config.hpp>
#include <bentos/inference/types.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bentos::llm {

enum class ProviderKind { anthropic, openai };

// Where the API key comes from; at most one per device.
struct KeySource {
  enum class Kind { none, file, credential, env };
  Kind kind = Kind::none;
  std::string name;  // the path, credential name or variable name
};

struct DeviceSettings {
  ProviderKind provider = ProviderKind::anthropic;
  std::string model;
  std::string base_url;  // no trailing '/', never ending in /v1
  KeySource key;
  int32_t default_max_tokens = 4096;
  int max_retries = 2;
  long connect_timeout_ms = 10'000;
  long idle_timeout_ms = 120'000;
  int64_t max_concurrent_calls = 64;
  // GET_INFO, with the device's overrides applied.
  inference::capabilities info;
};

// The keys a device config may have, for the "unknown key" message.
const std::vector<std::string>& known_config_keys();

DeviceSettings parse_settings(const bentos::device_config& config);

const char* provider_name(ProviderKind kind);

}  // namespace bentos::llm
