#include "retry_policy.h"

#include <algorithm>

namespace bentos::llm {

std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy& policy, int retry, double jitter,
                                                      std::optional<std::chrono::milliseconds> retry_after) {
  if (retry_after && *retry_after > policy.max_retry_after) return std::nullopt;
  std::chrono::milliseconds backoff = policy.first_delay;
  for (int k = 0; k < retry && backoff < policy.max_backoff; ++k) backoff *= 2;
  backoff = std::min(backoff, policy.max_backoff);
  jitter = std::clamp(jitter, 0.5, 1.0);
  auto delay = std::chrono::milliseconds(static_cast<long long>(static_cast<double>(backoff.count()) * jitter));
  if (retry_after) delay = std::max(delay, *retry_after);
  return delay;
}

}  // namespace bentos::llm
