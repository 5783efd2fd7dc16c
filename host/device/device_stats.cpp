#include "device/device_stats.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace bentos::device {

size_t LatencyHistogram::bucket_of(uint64_t ns) {
  if (ns < kExactBelow) return static_cast<size_t>(ns);
  ns = std::min<uint64_t>(ns, (uint64_t{1} << kMaxPowerOfTwo) - 1);
  // The power of two the value lies in, then its next kSubBucketBits bits.
  const unsigned power = static_cast<unsigned>(std::bit_width(ns)) - 1;  // >= kSubBucketBits + 1
  const uint64_t sub = (ns >> (power - kSubBucketBits)) & (kSubBuckets - 1);
  return kExactBelow + (power - kSubBucketBits - 1) * kSubBuckets + static_cast<size_t>(sub);
}

uint64_t LatencyHistogram::bucket_low(size_t bucket) {
  if (bucket < kExactBelow) return bucket;
  const size_t i = bucket - kExactBelow;
  const unsigned power = static_cast<unsigned>(i / kSubBuckets) + kSubBucketBits + 1;
  const uint64_t sub = i % kSubBuckets;
  return (kSubBuckets + sub) << (power - kSubBucketBits);
}

uint64_t LatencyHistogram::bucket_width(size_t bucket) {
  if (bucket < kExactBelow) return 1;
  const unsigned power = static_cast<unsigned>((bucket - kExactBelow) / kSubBuckets) + kSubBucketBits + 1;
  return uint64_t{1} << (power - kSubBucketBits);
}

void LatencyHistogram::record(uint64_t ns) {
  ++buckets_[bucket_of(ns)];
  ++count_;
  sum_ += ns;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
}

uint64_t LatencyHistogram::percentile(double fraction) const {
  if (count_ == 0) return 0;
  fraction = std::clamp(fraction, 0.0, 1.0);
  // The rank of the wanted sample, 1-based: the smallest that has at
  // least `fraction` of the samples at or below it.
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(fraction * static_cast<double>(count_))));
  // The extremes are known exactly.
  if (rank >= count_) return max_;
  if (rank == 1) return min_;
  uint64_t seen = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    seen += buckets_[b];
    if (seen >= rank) return std::clamp(bucket_low(b) + bucket_width(b) / 2, min_, max_);
  }
  return max_;
}

void DeviceStats::reply_encoded(const wire::Reply& reply) {
  ++replies_;
  if (reply.kind == wire::ReplyKind::error) {
    const auto err = static_cast<uint32_t>(reply.err);
    ++errors_[err < kErrnos ? err : 0];
  }
}

uint64_t DeviceStats::requests_total() const {
  uint64_t n = 0;
  for (uint64_t r : requests_) n += r;
  return n;
}

}  // namespace bentos::device
