// FrameDecoder: split and packed frames, zero-length frames, the size cap.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "wire/frame_decoder.h"

using bentos::wire::FrameDecoder;

namespace {

std::string frame(const std::string& payload) {
  const uint32_t n = static_cast<uint32_t>(payload.size());
  std::string out;
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  return out + payload;
}

struct Collector {
  std::vector<std::string> frames;
  FrameDecoder::FrameFn fn() {
    return [this](const uint8_t* p, size_t n) { frames.emplace_back(reinterpret_cast<const char*>(p), n); };
  }
};

bool feed(FrameDecoder& d, const std::string& bytes, Collector& c) {
  return d.feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), c.fn());
}

}  // namespace

TEST_CASE("a stream of frames decodes the same under every split into two reads") {
  const std::vector<std::string> payloads = {"alpha", "", "a longer payload \x01\x02", "z"};
  std::string stream;
  for (const auto& p : payloads) stream += frame(p);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    INFO("cut at " << cut);
    FrameDecoder d(1024);
    Collector c;
    REQUIRE(feed(d, stream.substr(0, cut), c));
    REQUIRE(feed(d, stream.substr(cut), c));
    CHECK(c.frames == payloads);
    CHECK(d.buffered() == 0);
  }
}

TEST_CASE("byte-by-byte feeding yields the same frames") {
  const std::vector<std::string> payloads = {"one", "", "three"};
  std::string stream;
  for (const auto& p : payloads) stream += frame(p);
  FrameDecoder d(1024);
  Collector c;
  for (char ch : stream) REQUIRE(feed(d, std::string(1, ch), c));
  CHECK(c.frames == payloads);
}

TEST_CASE("every split into three reads") {
  const std::string stream = frame("abc") + frame("") + frame("defgh");
  const std::vector<std::string> want = {"abc", "", "defgh"};
  for (size_t a = 0; a <= stream.size(); ++a) {
    for (size_t b = a; b <= stream.size(); ++b) {
      FrameDecoder d(64);
      Collector c;
      feed(d, stream.substr(0, a), c);
      feed(d, stream.substr(a, b - a), c);
      feed(d, stream.substr(b), c);
      CHECK(c.frames == want);
    }
  }
}

TEST_CASE("a zero-length frame alone is one empty frame") {
  FrameDecoder d(16);
  Collector c;
  REQUIRE(feed(d, std::string(4, '\0'), c));
  REQUIRE(c.frames.size() == 1);
  CHECK(c.frames[0].empty());
}

TEST_CASE("a frame exactly at the cap passes; one byte above fails and stays failed") {
  FrameDecoder ok(5);
  Collector c;
  CHECK(feed(ok, frame("12345"), c));
  CHECK(c.frames.size() == 1);

  FrameDecoder d(5);
  Collector c2;
  CHECK_FALSE(feed(d, frame("ok") + frame("123456"), c2));
  CHECK(c2.frames.size() == 1);  // the frame before the bad prefix still counts
  CHECK(d.failed());
  CHECK(d.oversized_length() == 6);
  CHECK_FALSE(feed(d, frame("x"), c2));
  CHECK(c2.frames.size() == 1);
}

TEST_CASE("an oversized prefix split across reads is caught before its payload arrives") {
  FrameDecoder d(1000);
  Collector c;
  const std::string prefix = "\x7f\xff\xff\xff";
  CHECK(feed(d, prefix.substr(0, 2), c));
  CHECK_FALSE(feed(d, prefix.substr(2), c));
  CHECK(d.oversized_length() == 0x7fffffffu);
}

TEST_CASE("the rest of a large frame can be read straight into the decoder, in pieces") {
  const std::string big(100000, 'b');
  const std::string stream = frame("small") + frame(big) + frame("after");
  for (size_t cut : {size_t{9}, size_t{11}, size_t{13}, size_t{5000}}) {  // inside the prefix, at the payload, in the payload
    INFO("first read ends at " << cut);
    FrameDecoder d(1 << 20);
    Collector c;
    REQUIRE(feed(d, stream.substr(0, cut), c));
    size_t at = cut;
    const size_t big_end = frame("small").size() + frame(big).size();
    size_t len = 0;
    while (uint8_t* space = d.direct_space(1024, len)) {
      REQUIRE(at + len <= big_end);  // never beyond the held frame
      const size_t n = std::min<size_t>(len, 30000);
      std::copy_n(stream.data() + at, n, space);
      d.commit_direct(n, c.fn());
      at += n;
    }
    if (cut >= 13) CHECK(at == big_end);  // with its length known, all of it went direct
    REQUIRE(feed(d, stream.substr(at), c));
    CHECK(c.frames == std::vector<std::string>{"small", big, "after"});
    CHECK(d.buffered() == 0);
    CHECK(d.direct_space(1, len) == nullptr);
  }
}

TEST_CASE("a length prefix alone reserves little; the buffer grows with the bytes that arrive") {
  const size_t claimed = size_t{32} << 20;  // 32 MiB, within the limit
  std::string payload(claimed, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  const std::string stream = frame(payload);
  FrameDecoder d(size_t{64} << 20);
  Collector c;
  REQUIRE(feed(d, stream.substr(0, 10), c));  // the prefix and 6 bytes
  CHECK(d.reserved() <= (size_t{512} << 10));
  size_t at = 10, len = 0;
  while (uint8_t* space = d.direct_space(1024, len)) {
    // Never more room than twice what arrived plus a step.
    CHECK(d.reserved() <= 2 * d.buffered() + (size_t{512} << 10));
    const size_t n = std::min<size_t>(len, 1 << 20);
    std::copy_n(stream.data() + at, n, space);
    d.commit_direct(n, c.fn());
    at += n;
  }
  CHECK(at == stream.size());
  REQUIRE(c.frames.size() == 1);
  CHECK(c.frames[0] == payload);
}
