// DeviceStats and its LatencyHistogram (host/device/device_stats.h): the
// buckets tile the range, percentiles land within a bucket's precision
// (12.5%), and replies are counted by op and errno.
#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <random>
#include <vector>

#include "device/device_stats.h"

using bentos::device::DeviceStats;
using bentos::device::LatencyHistogram;
using bentos::wire::OpKind;
using bentos::wire::Reply;

namespace {

// |got - want| within `fraction` of want.
bool near(uint64_t got, uint64_t want, double fraction) {
  const double diff = got > want ? double(got - want) : double(want - got);
  return diff <= fraction * double(want);
}

}  // namespace

TEST_CASE("histogram buckets: exact below 16, then 8 per power of two, contiguous, the last one open-ended") {
  for (uint64_t v = 0; v < 16; ++v) {
    CHECK(LatencyHistogram::bucket_of(v) == v);
    CHECK(LatencyHistogram::bucket_width(v) == 1);
  }
  // Every bucket starts where the previous one ends.
  for (size_t b = 1; b < LatencyHistogram::kBuckets; ++b) {
    CHECK(LatencyHistogram::bucket_low(b) ==
          LatencyHistogram::bucket_low(b - 1) + LatencyHistogram::bucket_width(b - 1));
  }
  // Values map into the bucket that holds them, near both of its edges.
  for (uint64_t v : {16ull, 17ull, 31ull, 32ull, 1000ull, 65535ull, 65536ull, 123456789ull, (1ull << 39) + 5}) {
    const size_t b = LatencyHistogram::bucket_of(v);
    CHECK(LatencyHistogram::bucket_low(b) <= v);
    CHECK(v < LatencyHistogram::bucket_low(b) + LatencyHistogram::bucket_width(b));
    // The width is at most 1/8 of the bucket's start: 12.5% precision.
    CHECK(LatencyHistogram::bucket_width(b) * 8 <= LatencyHistogram::bucket_low(b));
  }
  CHECK(LatencyHistogram::bucket_of(UINT64_MAX) == LatencyHistogram::kBuckets - 1);
  CHECK(LatencyHistogram::bucket_of(1ull << 40) == LatencyHistogram::kBuckets - 1);
}

TEST_CASE("histogram percentiles: empty, one sample, uniform, a tail") {
  LatencyHistogram h;
  CHECK(h.count() == 0);
  CHECK(h.percentile(0.5) == 0);
  CHECK(h.max() == 0);

  SUBCASE("one sample is reported exactly (kept within min and max)") {
    h.record(1234567);
    CHECK(h.percentile(0.5) == 1234567);
    CHECK(h.percentile(0.99) == 1234567);
    CHECK(h.max() == 1234567);
  }
  SUBCASE("uniform 1..10000 us, shuffled: p50 and p99 within 12.5%") {
    std::vector<uint64_t> samples;
    for (uint64_t us = 1; us <= 10000; ++us) samples.push_back(us * 1000);
    std::shuffle(samples.begin(), samples.end(), std::mt19937(7));
    for (uint64_t ns : samples) h.record(ns);
    CHECK(h.count() == 10000);
    CHECK(near(h.percentile(0.50), 5000 * 1000, 0.125));
    CHECK(near(h.percentile(0.99), 9900 * 1000, 0.125));
    CHECK(h.max() == 10000 * 1000);
    CHECK(h.min() == 1000);
    CHECK(h.percentile(1.0) == h.max());
  }
  SUBCASE("a tail: p99 sees it only when more than 1% of the samples are in it") {
    for (int i = 0; i < 99; ++i) h.record(100'000);  // 100 us
    h.record(50'000'000);                            // 50 ms
    CHECK(near(h.percentile(0.50), 100'000, 0.125));
    CHECK(near(h.percentile(0.99), 100'000, 0.125));
    CHECK(h.max() == 50'000'000);
    h.record(50'000'000);
    h.record(50'000'000);  // 3 of 102 now
    CHECK(near(h.percentile(0.99), 50'000'000, 0.125));
  }
  SUBCASE("samples beyond the last bucket keep an exact max") {
    h.record(1ull << 50);
    CHECK(h.max() == 1ull << 50);
    CHECK(h.percentile(0.5) == 1ull << 50);
  }
}

TEST_CASE("DeviceStats: requests by op, replies by errno, latency per op, EFBIG from a state machine") {
  DeviceStats s;
  s.request_decoded(OpKind::open);
  s.request_decoded(OpKind::read);
  s.request_decoded(OpKind::read);
  CHECK(s.requests(OpKind::read) == 2);
  CHECK(s.requests_total() == 3);

  // Replies and errnos are counted when encoded; latency when written.
  s.reply_encoded(Reply::opened());
  s.reply_encoded(Reply::error(EAGAIN));
  s.reply_encoded(Reply::error(EAGAIN));
  s.reply_encoded(Reply::error(5000));  // absurd: the shared slot
  CHECK(s.replies() == 4);
  CHECK(s.errors(EAGAIN) == 2);
  CHECK(s.errors(0) == 1);
  CHECK(s.errors(EIO) == 0);
  CHECK(s.latency(OpKind::read).count() == 0);

  const uint64_t started = 1'000'000;
  s.reply_written(OpKind::open, started, started + 4'000);
  for (int i = 0; i < 3; ++i) s.reply_written(OpKind::read, started, started + 2'000);
  CHECK(s.latency(OpKind::read).count() == 3);
  CHECK(s.latency(OpKind::read).max() == 2'000);
  CHECK(s.latency(OpKind::open).count() == 1);
  CHECK(s.latency(OpKind::open).min() == 4'000);
  CHECK(s.latency(OpKind::write).count() == 0);
  // A clock that did not move (or a start after the write: readings from
  // two different calls) counts as 0 ns.
  s.reply_written(OpKind::poll, UINT64_MAX, started);
  s.reply_written(OpKind::poll, started, started);
  CHECK(s.latency(OpKind::poll).count() == 2);
  CHECK(s.latency(OpKind::poll).max() == 0);

  s.machine_answered_write(Reply::error(EFBIG));
  s.machine_answered_write(Reply::error(EBUSY));
  s.machine_answered_write(Reply::written(3));
  CHECK(s.limits.requests_too_big == 1);
}

TEST_CASE("histogram sum is exact and bucket counts add up to the count, each in the bucket of its sample") {
  LatencyHistogram h;
  CHECK(h.sum() == 0);
  const uint64_t samples[] = {0, 15, 16, 1000, 1000, 123456789, uint64_t{1} << 45};
  uint64_t sum = 0;
  for (uint64_t ns : samples) {
    h.record(ns);
    sum += ns;
  }
  CHECK(h.sum() == sum);  // the sample past the last bucket counts in full
  uint64_t total = 0;
  for (size_t b = 0; b < LatencyHistogram::kBuckets; ++b) total += h.bucket_count(b);
  CHECK(total == h.count());
  CHECK(h.bucket_count(LatencyHistogram::bucket_of(1000)) == 2);
  CHECK(h.bucket_count(0) == 1);
  CHECK(h.bucket_count(LatencyHistogram::kBuckets - 1) == 1);
}
