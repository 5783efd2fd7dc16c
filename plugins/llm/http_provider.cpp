#include "http_provider.h"

#include "anthropic_wire.h"
#include "openai_wire.h"
#include "streamed_call.h"

#include <bentos/driver/errors.hpp>
#include <bentos/inference/errors.hpp>

namespace bentos::llm {

HttpProvider::HttpProvider(DeviceSettings settings, ApiKey key, std::unique_ptr<Wire> wire, bentos::host_handle host)
    : core_(std::make_shared<ProviderCore>(host)) {
  core_->settings = std::move(settings);
  core_->key = std::move(key);
  core_->wire = std::move(wire);
  core_->engine = std::make_unique<HttpEngine>();
}

HttpProvider::~HttpProvider() {
  {
    std::lock_guard lock(core_->mutex);
    core_->closed = true;
  }
  // Joins the engine thread; every transfer left gets on_complete(cancelled).
  core_->engine.reset();
}

std::unique_ptr<inference::call> HttpProvider::start(inference::request r, std::shared_ptr<inference::sink> out) {
  const DeviceSettings& s = core_->settings;
  if (!core_->key.key && !core_->key.missing_reason.empty()) {
    // Never contacts the provider: a call without its key cannot succeed.
    throw inference::provider_failure(inference::provider_error{inference::error_kind::authentication,
                                                                core_->key.missing_reason, std::nullopt, std::nullopt});
  }
  HttpRequest request = core_->wire->build(r);
  if (core_->active_calls.fetch_add(1) >= s.max_concurrent_calls) {
    core_->active_calls.fetch_sub(1);
    throw inference::provider_failure(inference::provider_error{
        inference::error_kind::rate_limited,
        "too many calls in flight on this device (max_concurrent_calls is " + std::to_string(s.max_concurrent_calls) +
            "); try again when one has ended",
        std::nullopt, std::nullopt});
  }
  auto c = std::make_shared<StreamedCall>(core_, std::move(request), std::move(out));
  if (!c->begin()) {
    core_->active_calls.fetch_sub(1);
    throw bentos::error::io("llm: the device is shutting down");
  }
  return std::make_unique<CallHandle>(std::move(c));
}

std::unique_ptr<inference::provider> make_provider(const bentos::device_config& config, bentos::host_handle host) {
  DeviceSettings s = parse_settings(config);
  ApiKey key = load_api_key(s.key, s.provider == ProviderKind::anthropic);
  std::unique_ptr<Wire> wire;
  if (s.provider == ProviderKind::anthropic) {
    wire = std::make_unique<AnthropicWire>(s, key.key);
  } else {
    wire = std::make_unique<OpenAiWire>(s, key.key);
  }
  if (!key.key && !key.missing_reason.empty()) {
    host.log(bentos::log_level::warn, key.missing_reason + "; every call will answer EACCES");
  }
  return std::make_unique<HttpProvider>(std::move(s), std::move(key), std::move(wire), host);
}

}  // namespace bentos::llm
