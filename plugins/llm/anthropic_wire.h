// The Anthropic Messages API, streaming (inference.md §8):
// POST {base_url}/v1/messages with x-api-key and anthropic-version.
//
// Owned by the device's provider; immutable, so any thread (wire.h).
#pragma once

#include "settings.h"
#include "wire.h"

#include <optional>
#include <string>

namespace bentos::llm {

class AnthropicWire final : public Wire {
 public:
  AnthropicWire(DeviceSettings settings, std::optional<std::string> key)
      : settings_(std::move(settings)), key_(std::move(key)) {}

  HttpRequest build(const inference::request& r) const override;
  std::unique_ptr<StreamDecoder> decoder() const override;
  inference::provider_error error_of(long status, std::string_view body) const override;

  // The JSON body alone (for build and tests).
  inference::json body(const inference::request& r) const;

 private:
  DeviceSettings settings_;
  std::optional<std::string> key_;
};

}  // namespace bentos::llm
