#include "wire/frame_decoder.h"

#include <algorithm>
#include <cstring>

namespace bentos::wire {

namespace {
constexpr size_t kPrefixBytes = 4;
// A held-frame buffer up to this size is kept for the next frame; a larger
// one (a rare huge frame) is freed once delivered.
constexpr size_t kKeepCapacity = size_t{1} << 20;
// The held-frame buffer grows toward the declared frame size in steps of at
// least this, and at most doubling what has arrived: memory follows the
// bytes a peer really sends, not the 4-byte length it claims (a prefix
// claiming max_frame_bytes on each of many connections must not reserve
// that much each).
constexpr size_t kGrowStep = size_t{256} << 10;

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

void FrameDecoder::reserve(size_t bytes) {
  if (bytes <= capacity_) return;
  const size_t cap = std::max(bytes, capacity_ * 2);
  std::unique_ptr<uint8_t[]> bigger(new uint8_t[cap]);  // no zero-fill: every byte is written before it is read
  if (held_ > 0) std::memcpy(bigger.get(), buf_.get(), held_);
  buf_ = std::move(bigger);
  capacity_ = cap;
}

void FrameDecoder::grow_toward(size_t whole) {
  reserve(std::min(whole, std::max(held_ * 2, held_ + kGrowStep)));
}

void FrameDecoder::hold(const uint8_t* data, size_t len) {
  if (len == 0) return;
  reserve(held_ + len);
  std::memcpy(buf_.get() + held_, data, len);
  held_ += len;
}

size_t FrameDecoder::held_frame_size() const {
  return held_ < kPrefixBytes ? 0 : kPrefixBytes + read_be32(buf_.get());
}

void FrameDecoder::deliver_held(const FrameFn& on_frame) {
  // Take the buffer out first, so nothing on_frame does can touch the
  // frame it is reading; it comes back afterwards (up to kKeepCapacity).
  // on_frame must not feed() this decoder: the bytes after the held frame
  // in the outer feed() would then come after the nested ones.
  std::unique_ptr<uint8_t[]> frame = std::move(buf_);
  const size_t frame_cap = capacity_;
  const size_t frame_len = held_ - kPrefixBytes;
  held_ = 0;
  capacity_ = 0;
  on_frame(frame.get() + kPrefixBytes, frame_len);
  if (held_ == 0 && capacity_ == 0 && frame_cap <= kKeepCapacity) {
    buf_ = std::move(frame);
    capacity_ = frame_cap;
  }
}

bool FrameDecoder::feed(const uint8_t* data, size_t len, const FrameFn& on_frame) {
  if (failed_) return false;
  if (held_ > 0) {
    // Complete the held frame first: top up the prefix, then the payload,
    // copying only what that one frame needs.
    if (held_ < kPrefixBytes) {
      const size_t need = std::min(kPrefixBytes - held_, len);
      hold(data, need);
      data += need;
      len -= need;
      if (held_ < kPrefixBytes) return true;
    }
    const uint32_t frame_len = read_be32(buf_.get());
    if (frame_len > max_frame_bytes_) {
      failed_ = true;
      oversized_length_ = frame_len;
      held_ = 0;
      return false;
    }
    grow_toward(kPrefixBytes + frame_len);
    const size_t need = std::min<size_t>(kPrefixBytes + frame_len - held_, len);
    hold(data, need);
    data += need;
    len -= need;
    if (held_ < kPrefixBytes + frame_len) return true;
    deliver_held(on_frame);
    if (failed_) return false;
  }
  const size_t used = take_frames(data, len, on_frame);
  if (failed_) return false;
  hold(data + used, len - used);
  // Make room for more of the frame, so the rest can be read into it.
  if (const size_t whole = held_frame_size(); whole > 0 && whole - kPrefixBytes <= max_frame_bytes_) {
    grow_toward(whole);
  }
  return true;
}

uint8_t* FrameDecoder::direct_space(size_t min_bytes, size_t& len) {
  const size_t whole = held_frame_size();
  if (failed_ || whole == 0 || whole - held_ < min_bytes || capacity_ <= held_) return nullptr;
  len = std::min(whole, capacity_) - held_;
  return buf_.get() + held_;
}

void FrameDecoder::commit_direct(size_t n, const FrameFn& on_frame) {
  held_ += n;
  const size_t whole = held_frame_size();
  if (held_ == whole) return deliver_held(on_frame);
  if (held_ == capacity_) grow_toward(whole);
}

}  // namespace bentos::wire
