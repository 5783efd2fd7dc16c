// What one device counts for the control socket's `stats`: requests by op,
// errors by errno, bytes in and out, reply latency per op, and one counter
// per limit (behavior.md §1, "Limits and their defaults").
//
// A reply's latency runs from the socket read that brought its request
// (the read's one clock reading, net::Connection::batch_arrived_ns) to the
// write that hands the reply to the kernel (the flush's one reading): what
// bentosd would see, minus the kernel's socket time.
//
// Everything has a fixed size, allocated with the device: counting a
// request or a reply allocates nothing and takes no lock.
//
// Owned by its Device; loop thread only, except `buffer_full`, which the
// plugin's push/yield services bump from any thread (an atomic).
#pragma once

#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "util/monotonic_clock.h"
#include "wire/ops.h"

namespace bentos::device {

// Durations in a fixed set of log-linear buckets: exact below 16 ns, then
// 8 buckets per power of two, so a percentile is within 12.5% of the true
// sample (HdrHistogram's idea, at 3 significant bits). Samples of 2^40 ns
// (about 18 minutes) and more share the last bucket.
//
// A value type with no thread affinity (its owner decides).
class LatencyHistogram {
 public:
  void record(uint64_t ns);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  // The sample at `fraction` (0.5 = median, 0.99) of the sorted samples,
  // as the middle of its bucket, kept within [min, max]; the lowest and the
  // highest sample exactly; 0 when empty.
  uint64_t percentile(double fraction) const;
  // Read-only views for the Prometheus exposition (daemon/metrics_text.h):
  // the exact sum of every sample, and how many samples fell in `bucket`
  // (< kBuckets).
  uint64_t sum() const { return sum_; }
  uint64_t bucket_count(size_t bucket) const { return buckets_[bucket]; }

  static constexpr unsigned kSubBucketBits = 3;
  static constexpr unsigned kSubBuckets = 1u << kSubBucketBits;  // per power of two
  static constexpr unsigned kExactBelow = 2 * kSubBuckets;        // 0..15 get a bucket each
  static constexpr unsigned kMaxPowerOfTwo = 40;
  static constexpr size_t kBuckets = kExactBelow + (kMaxPowerOfTwo - kSubBucketBits - 1) * kSubBuckets;

  static size_t bucket_of(uint64_t ns);
  // The smallest value that falls in `bucket`, and how many values do.
  static uint64_t bucket_low(size_t bucket);
  static uint64_t bucket_width(size_t bucket);

 private:
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;  // ns; wraps after 584 years of summed latency
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

// The limits a device refuses something for. Request timeouts and dropped
// P3 events are counted where they happen (CallTracker, EventHub); the
// Device reads them from there.
struct LimitCounters {
  uint64_t frames_too_big = 0;        // max_frame_bytes: the connection was closed
  uint64_t requests_too_big = 0;      // max_request_bytes: a write answered EFBIG
  uint64_t sessions_refused = 0;      // max_sessions: an open answered EMFILE
  uint64_t connections_over_max = 0;  // the host's max_connections: closed at accept
  uint64_t peers_refused = 0;         // allowed_uids / allowed_gids: closed at accept
};

class DeviceStats {
 public:
  // The clock latencies are measured on (util::monotonic_ns).
  static uint64_t now_ns() { return util::monotonic_ns(); }

  // Every wire::OpKind, by its value.
  static constexpr size_t kOps = static_cast<size_t>(wire::OpKind::poll) + 1;
  // Errnos 1..kErrnos-1 are counted one by one; bigger ones (a plugin's
  // absurd value, already mapped to EIO by the host) share slot 0.
  static constexpr size_t kErrnos = 256;

  void request_decoded(wire::OpKind op) { ++requests_[static_cast<size_t>(op)]; }
  // A reply to a request of kind `op` was encoded: it and its errno are
  // counted. Its latency is recorded separately, when it is written.
  void reply_encoded(const wire::Reply& reply);
  // A reply to a request of kind `op` whose bytes arrived at `started_ns`
  // was handed to the socket at `written_ns` (both now_ns()): the time in
  // between is its latency. Readings come from different calls (a read
  // callback, a flush), so a `written_ns` before `started_ns` counts as 0.
  void reply_written(wire::OpKind op, uint64_t started_ns, uint64_t written_ns) {
    latency_[static_cast<size_t>(op)].record(written_ns > started_ns ? written_ns - started_ns : 0);
  }

  // A write answered by a pattern's state machine rather than the plugin:
  // EFBIG from there always means max_request_bytes.
  void machine_answered_write(const wire::Reply& reply) {
    if (reply.kind == wire::ReplyKind::error && reply.err == EFBIG) ++limits.requests_too_big;
  }

  uint64_t requests(wire::OpKind op) const { return requests_[static_cast<size_t>(op)]; }
  uint64_t requests_total() const;
  uint64_t replies() const { return replies_; }
  // How many replies carried errno `err` (slot 0: every errno >= kErrnos).
  uint64_t errors(size_t err) const { return err < kErrnos ? errors_[err] : 0; }
  const LatencyHistogram& latency(wire::OpKind op) const { return latency_[static_cast<size_t>(op)]; }

  // Frame bytes as they cross the socket, length prefixes included.
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t connections_accepted = 0;
  uint64_t sessions_opened = 0;
  uint64_t malformed_frames = 0;  // payloads that are not a FuseMessage (skipped)
  LimitCounters limits;

  // max_buffered_bytes: pushes (P1) and yields (P4) refused with -EAGAIN.
  // Shared with the sessions whose plugin threads bump it, so a late push
  // never touches a freed device.
  const std::shared_ptr<std::atomic<uint64_t>> buffer_full = std::make_shared<std::atomic<uint64_t>>(0);

 private:
  std::array<uint64_t, kOps> requests_{};
  std::array<uint64_t, kErrnos> errors_{};
  std::array<LatencyHistogram, kOps> latency_{};
  uint64_t replies_ = 0;
};

}  // namespace bentos::device
