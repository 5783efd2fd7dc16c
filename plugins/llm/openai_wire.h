// OpenAI Chat Completions, streaming (inference.md §8): POST
// {base_url}/v1/chat/completions with stream_options.include_usage; the
// Authorization header only when the device has a key, so a local server
// (llama.cpp, Ollama, vLLM) works without one.
//
// Owned by the device's provider; immutable, so any thread (wire.h).
#pragma once

#include "settings.h"
#include "wire.h"

#include <optional>
#include <string>

namespace bentos::llm {

class OpenAiWire final : public Wire {
 public:
  OpenAiWire(DeviceSettings settings, std::optional<std::string> key)
      : settings_(std::move(settings)), key_(std::move(key)) {}

  HttpRequest build(const inference::request& r) const override;
  std::unique_ptr<StreamDecoder> decoder() const override;
  inference::provider_error error_of(long status, std::string_view body) const override;

  inference::json body(const inference::request& r) const;

 private:
  DeviceSettings settings_;
  std::optional<std::string> key_;
};

}  // namespace bentos::llm
