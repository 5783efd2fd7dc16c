// libFuzzer target: the frame decoder and the FuseMessage <-> Request/Reply
// mapping (host/wire). docs/fuzzing.md says how to run it.
//
// Input layout:
//   byte 0        the decoder's max_frame_bytes (small values reach the
//                 oversized-length path)
//   bytes 1..8    chunk sizes (1..64) used in turn to feed the stream
//   the rest      the byte stream a peer would send; it is also read as the
//                 fields of a Reply that must round-trip.
//
// Checked for every input:
//   - feeding in chunks yields exactly the frames that feeding it all at
//     once does, and the same failure (oversized length);
//   - every decoded request re-encodes (append_request_frame) to a frame
//     that decodes to the same fields;
//   - decode_request (its hand-written fast path) decides every payload
//     exactly as the generated protobuf parser does;
//   - decode_reply never crashes on the same payloads;
//   - a Reply built from the input round-trips through append_reply_frame,
//     and its segmented path (the payload split into pieces, into a
//     SegmentedOutput) writes exactly the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "wire/codec.h"
#include "wire/frame_decoder.h"
#include "wire/ops.h"
#include "wire/segmented_output.h"

using namespace bentos::wire;

namespace {

struct Reader {
  const uint8_t* p;
  size_t n;
  size_t i = 0;
  uint8_t u8() { return i < n ? p[i++] : 0; }
  uint64_t u64() {
    uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v = (v << 8) | u8();
    return v;
  }
  std::string bytes(size_t len) {
    len = std::min(len, n - std::min(i, n));
    std::string s(reinterpret_cast<const char*>(p + i), len);
    i += len;
    return s;
  }
};

bool same_request(const Request& a, const Request& b) {
  // fuse_only re-encodes as one fixed FUSE-only op (lookup), so only its
  // kind survives; every other field is meaningful for its kind and zero
  // otherwise (decode_request starts from Request{}).
  return a.id == b.id && a.fh == b.fh && a.kind == b.kind && a.flags == b.flags && a.size == b.size &&
         a.offset == b.offset && a.data == b.data && a.lock_owner == b.lock_owner &&
         a.datasync == b.datasync && a.cmd == b.cmd && a.ioctl_flags == b.ioctl_flags &&
         a.out_bufsz == b.out_bufsz && a.events == b.events && a.kh == b.kh &&
         (a.kind == OpKind::fuse_only || a.fuse_field == b.fuse_field);
}

bool same_reply(const Reply& a, const Reply& b) {
  return a.id == b.id && a.fh == b.fh && a.kind == b.kind && a.err == b.err && a.data == b.data &&
         a.count == b.count && a.result == b.result && a.revents == b.revents;
}

// Decodes one payload the way a connection would, then checks the mappings.
void check_payload(const uint8_t* payload, size_t len) {
  Request req;
  Request reference;
  const bool decoded = decode_request(payload, len, req);
  FUZZ_CHECK(decoded == detail::decode_request_generated(payload, len, reference));
  if (decoded) {
    FUZZ_CHECK(same_request(req, reference) && req.fuse_field == reference.fuse_field);
    std::string frame;
    append_request_frame(req, frame);
    FUZZ_CHECK(frame.size() >= 4);
    const uint32_t body = (uint32_t{uint8_t(frame[0])} << 24) | (uint32_t{uint8_t(frame[1])} << 16) |
                          (uint32_t{uint8_t(frame[2])} << 8) | uint32_t{uint8_t(frame[3])};
    FUZZ_CHECK(body == frame.size() - 4);
    Request again;
    FUZZ_CHECK(decode_request(reinterpret_cast<const uint8_t*>(frame.data()) + 4, body, again));
    FUZZ_CHECK(same_request(req, again));
    (void)op_name(req.kind);
  }
  Reply reply;
  (void)decode_reply(payload, len, reply);
}

std::vector<std::string> frames_of(FrameDecoder& dec, const uint8_t* data, size_t len,
                                   const std::vector<size_t>& chunks, bool& ok) {
  std::vector<std::string> frames;
  const FrameDecoder::FrameFn on_frame = [&](const uint8_t* p, size_t n) {
    frames.emplace_back(reinterpret_cast<const char*>(p), n);
  };
  ok = true;
  size_t at = 0;
  size_t k = 0;
  while (at < len) {
    const size_t want = chunks.empty() ? len - at : chunks[k++ % chunks.size()];
    const size_t take = std::min(want, len - at);
    if (!dec.feed(data + at, take, on_frame)) ok = false;
    at += take;
  }
  return frames;
}

void check_reply_round_trip(Reader& r) {
  Reply rep;
  rep.id = r.u64();
  rep.fh = r.u64();
  const uint8_t kind = r.u8() % 7;
  rep.kind = static_cast<ReplyKind>(kind);
  switch (rep.kind) {
    case ReplyKind::error: rep.err = static_cast<int32_t>(r.u64()); break;
    case ReplyKind::empty:
    case ReplyKind::open: break;
    case ReplyKind::buf: rep.data = r.bytes(r.u8()); break;
    case ReplyKind::write: rep.count = r.u64(); break;
    case ReplyKind::ioctl:
      rep.result = static_cast<int32_t>(r.u64());
      rep.data = r.bytes(r.u8());
      break;
    case ReplyKind::poll: rep.revents = static_cast<uint32_t>(r.u64()); break;
  }
  std::string frame = "junk";  // append_* appends: a prefix must be kept
  append_reply_frame(rep, frame);
  FUZZ_CHECK(frame.compare(0, 4, "junk") == 0);
  FrameDecoder dec(16u << 20);
  int n = 0;
  Reply back;
  bool decoded = false;
  FUZZ_CHECK(dec.feed(reinterpret_cast<const uint8_t*>(frame.data()) + 4, frame.size() - 4,
                      [&](const uint8_t* p, size_t len) {
                        ++n;
                        decoded = decode_reply(p, len, back);
                      }));
  FUZZ_CHECK(n == 1 && dec.buffered() == 0);
  FUZZ_CHECK(decoded);
  // An error reply with errno 0 carries nothing that says "error": it
  // reads back as an empty success (the host never sends one).
  Reply expect = rep;
  if (expect.kind == ReplyKind::error && expect.err == 0) expect.kind = ReplyKind::empty;
  FUZZ_CHECK(same_reply(expect, back));

  // The host's path: a payload of `data` followed by pieces (some of at
  // least kCopyBelow bytes, which are spliced instead of copied), appended
  // after bytes already in the output, must come out exactly as the plain
  // path writes the same payload held in one string.
  Reply pieced = rep;
  for (size_t i = r.u8() % 4; i > 0; --i) {
    const size_t offset = r.u8() % 8;
    const size_t len = (r.u8() & 1) ? kCopyBelow + r.u8() : r.u8();
    std::string owner(offset + len, static_cast<char>(r.u8()));
    if (len > 0) owner[offset] = static_cast<char>(i);  // pieces in the wrong order would show
    pieced.segments.append(std::move(owner), offset, len);
  }
  Reply reference = pieced;
  reference.data = pieced.payload();
  reference.segments = ByteSegments{};
  std::string want = "junk";
  append_reply_frame(reference, want);
  SegmentedOutput out;
  out.bytes() = "junk";
  append_reply_frame(std::move(pieced), out);
  FUZZ_CHECK(out.flatten() == want);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // 0 means the default limit; otherwise a tiny one.
  const uint64_t max_frame = data[0] == 0 ? (16ull << 20) : data[0];
  std::vector<size_t> chunks;
  size_t hdr = 1;
  for (; hdr < 9 && hdr < size; ++hdr) chunks.push_back(1 + data[hdr] % 64);
  const uint8_t* stream = data + hdr;
  const size_t len = size - hdr;

  FrameDecoder whole(max_frame);
  bool whole_ok = false;
  const auto expected = frames_of(whole, stream, len, {}, whole_ok);
  FrameDecoder split(max_frame);
  bool split_ok = false;
  const auto got = frames_of(split, stream, len, chunks, split_ok);
  FUZZ_CHECK(got == expected);
  FUZZ_CHECK(whole_ok == split_ok);
  FUZZ_CHECK(whole.failed() == split.failed());
  FUZZ_CHECK(whole.oversized_length() == split.oversized_length());
  if (!whole.failed()) FUZZ_CHECK(whole.buffered() == split.buffered());
  // A failed decoder stays failed.
  if (split.failed()) FUZZ_CHECK(!split.feed(stream, len, [](const uint8_t*, size_t) { FUZZ_CHECK(false); }));

  for (const auto& f : got) {
    FUZZ_CHECK(f.size() <= max_frame);
    check_payload(reinterpret_cast<const uint8_t*>(f.data()), f.size());
  }
  // The raw stream itself as one payload, too (no framing in the way).
  check_payload(stream, len);

  Reader r{stream, len};
  check_reply_round_trip(r);
  return 0;
}
