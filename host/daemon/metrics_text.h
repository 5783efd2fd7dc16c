// The control socket's `metrics` answer: every counter of `stats` and
// `status` in the Prometheus text exposition format, version 0.0.4, with
// OpenMetrics-compatible names (prefix bentos_, units in the name, counters
// ending in _total). Reply latency is a real histogram per device and op
// (_bucket, _sum, _count), read from DeviceStats' LatencyHistogram.
//
// The families, and what each means, are listed in docs/operations.md
// ("Metrics"); metrics_text.cpp has them in order.
//
// Plain functions over a snapshot the caller gathers on the loop thread
// (the DeviceStats it points at are the loop thread's); no state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "device/device_stats.h"

namespace bentos::daemon {

// What one device contributes. `stats` must stay valid (and untouched)
// while metrics_text() runs; the rest are the Device's own counters.
struct DeviceMetrics {
  std::string name;
  const device::DeviceStats* stats = nullptr;
  uint64_t connections = 0;  // open now
  uint64_t sessions = 0;     // open now
  uint64_t request_timeouts = 0;
  uint64_t dropped_events = 0;
  uint64_t plugin_exceptions = 0;
};

struct HostMetrics {
  std::string version;
  double uptime_seconds = 0;
  uint64_t max_connections = 0;
  std::vector<DeviceMetrics> devices;
  // bentos_devices, when it counts more than `devices` (isolated devices,
  // whose figures come from their children: daemon/metrics_merge.h).
  uint64_t device_count = 0;  // 0: devices.size()
};

// The Content-Type a scraper expects for this text.
inline constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// The latency histograms' upper bounds (`le`), in ns: every power of two
// from 256 ns to 2^36 ns (68.7 s), then +Inf. Each is an edge of the
// host's own buckets, so every count is exact, not interpolated: a bucket
// counts the replies faster than its bound (a reply of exactly 2^k ns, to
// the nanosecond, counts in the next one).
inline constexpr unsigned kLatencyFirstPower = 8;
inline constexpr unsigned kLatencyLastPower = 36;
inline constexpr size_t kLatencyBounds = kLatencyLastPower - kLatencyFirstPower + 1;
static_assert(kLatencyLastPower < device::LatencyHistogram::kMaxPowerOfTwo,
              "a bound at or past the host's last bucket would not be exact");

// The whole exposition, ending in a newline.
std::string metrics_text(const HostMetrics& metrics);

// An errno's symbolic name (EAGAIN); "other" for DeviceStats' slot 0 (the
// errnos it does not count one by one); E<number> for one without a name.
// Shared by `stats` and `metrics`, so both name an errno alike.
std::string errno_name(size_t err);

}  // namespace bentos::daemon
