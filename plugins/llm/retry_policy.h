// When to try a failed call again (inference.md §6): retryable kinds,
// before the first output record only, up to max_retries times, after an
// exponential backoff that honours the provider's Retry-After.
//
// Pure functions (the jitter comes from the caller): any thread.
#pragma once

#include <chrono>
#include <optional>

namespace bentos::llm {

struct RetryPolicy {
  std::chrono::milliseconds first_delay{250};
  std::chrono::milliseconds max_backoff{8'000};
  // A provider asking for a longer wait than this is not retried: the
  // reader would sit blocked that long, so it gets the error now and
  // decides itself.
  std::chrono::milliseconds max_retry_after{30'000};
};

// The wait before retry number `retry` (0 for the first retry): first_delay
// doubled per retry, capped, scaled by `jitter` in [0.5, 1] so that many
// sessions failing together do not come back together; at least the
// Retry-After. nullopt: do not retry (Retry-After beyond the limit).
std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy& policy, int retry, double jitter,
                                                      std::optional<std::chrono::milliseconds> retry_after);

}  // namespace bentos::llm
