// What every call of one device shares: the device's settings and key,
// its wire format, its HTTP engine and its count of calls in flight.
//
// Owned jointly (shared_ptr) by the provider and by every call still
// running, so a late cancel() finds it alive; but the engine inside is
// destroyed by the provider's destructor (its thread must be joined there,
// never from a handler), after `closed` is set: under `mutex`, nobody
// touches the engine once closed. Any thread.
#pragma once

#include "api_key.h"
#include "http_engine.h"
#include "retry_policy.h"
#include "settings.h"
#include "wire.h"

#include <bentos/driver/host.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace bentos::llm {

struct ProviderCore {
  explicit ProviderCore(bentos::host_handle h) : host(h) {}

  DeviceSettings settings;
  ApiKey key;
  std::unique_ptr<Wire> wire;
  bentos::host_handle host;
  RetryPolicy retry;

  std::atomic<int64_t> active_calls{0};

  std::mutex mutex;  // guards closed and the engine pointer's use
  bool closed = false;
  std::unique_ptr<HttpEngine> engine;

  // Queue a transfer; false once the device is closing.
  bool start(HttpRequest request, HttpHandler handler, TransferId& id) {
    std::lock_guard lock(mutex);
    if (closed) return false;
    id = engine->start(std::move(request), std::move(handler));
    return true;
  }
  // Abort a transfer without waiting (a no-op once closing: the engine's
  // destruction cancels everything anyway).
  void cancel_soon(TransferId id) {
    std::lock_guard lock(mutex);
    if (!closed) engine->cancel_soon(id);
  }
  // From a handler, on the engine thread: marks the transfer at once.
  void cancel_from_handler(TransferId id) {
    std::lock_guard lock(mutex);
    if (!closed) engine->cancel(id);
  }
};

}  // namespace bentos::llm
