// HttpProvider: inference.md's provider for one llm device, over one HTTP
// engine (one curl multi handle on one thread) whatever the number of
// sessions and calls. The wire format (Anthropic or OpenAI) is a Wire.
//
// Owned by the inference driver (so by the device instance) from create
// to destroy. start() and info() run on the host's callback threads,
// concurrently; the destructor on the host's thread, after the sessions
// ended: it closes the core and joins the engine thread, which answers
// every transfer still running with a cancellation.
#pragma once

#include "provider_core.h"

#include <bentos/inference/provider.hpp>

#include <memory>

namespace bentos::llm {

class HttpProvider final : public inference::provider {
 public:
  HttpProvider(DeviceSettings settings, ApiKey key, std::unique_ptr<Wire> wire, bentos::host_handle host);
  ~HttpProvider() override;
  HttpProvider(const HttpProvider&) = delete;
  HttpProvider& operator=(const HttpProvider&) = delete;

  inference::capabilities info() const override { return core_->settings.info; }
  // Throws provider_failure: authentication (EACCES) without a needed key,
  // rate_limited (EAGAIN) beyond max_concurrent_calls.
  std::unique_ptr<inference::call> start(inference::request r, std::shared_ptr<inference::sink> out) override;

 private:
  std::shared_ptr<ProviderCore> core_;
};

// The provider a device config asks for (reads the key; throws
// bentos::error::invalid_argument for a bad config or an unsafe key file).
std::unique_ptr<inference::provider> make_provider(const bentos::device_config& config, bentos::host_handle host);

}  // namespace bentos::llm
