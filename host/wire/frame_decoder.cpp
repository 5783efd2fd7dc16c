#include "wire/frame_decoder.h"

#include <algorithm>

namespace bentos::wire {

namespace {
constexpr size_t kPrefixBytes = 4;

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
}  // namespace

size_t FrameDecoder::take_frames(const uint8_t* data, size_t len, const FrameFn& on_frame) {
  size_t used = 0;
  while (len - used >= kPrefixBytes) {
    const uint32_t frame_len = read_be32(data + used);
    if (frame_len > max_frame_bytes_) {
      failed_ = true;
      oversized_length_ = frame_len;
      return used;
    }
    if (len - used - kPrefixBytes < frame_len) break;
    on_frame(data + used + kPrefixBytes, frame_len);
    used += kPrefixBytes + frame_len;
  }
  return used;
}

bool FrameDecoder::feed(const uint8_t* data, size_t len, const FrameFn& on_frame) {
  if (failed_) return false;
  if (!partial_.empty()) {
    // Complete the held frame first: top up the prefix, then the payload,
    // copying only what that one frame needs.
    if (partial_.size() < kPrefixBytes) {
      const size_t need = std::min(kPrefixBytes - partial_.size(), len);
      partial_.append(reinterpret_cast<const char*>(data), need);
      data += need;
      len -= need;
      if (partial_.size() < kPrefixBytes) return true;
    }
    const uint32_t frame_len = read_be32(reinterpret_cast<const uint8_t*>(partial_.data()));
    if (frame_len > max_frame_bytes_) {
      failed_ = true;
      oversized_length_ = frame_len;
      partial_.clear();
      return false;
    }
    const size_t have = partial_.size() - kPrefixBytes;
    const size_t need = std::min<size_t>(frame_len - have, len);
    partial_.append(reinterpret_cast<const char*>(data), need);
    data += need;
    len -= need;
    if (partial_.size() - kPrefixBytes < frame_len) return true;
    // Move the frame out first so on_frame may feed() re-entrantly safely.
    std::string frame = std::move(partial_);
    partial_.clear();
    on_frame(reinterpret_cast<const uint8_t*>(frame.data()) + kPrefixBytes, frame_len);
    if (failed_) return false;
  }
  const size_t used = take_frames(data, len, on_frame);
  if (failed_) return false;
  partial_.assign(reinterpret_cast<const char*>(data) + used, len - used);
  return true;
}

}  // namespace bentos::wire
