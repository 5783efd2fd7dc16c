// Splits a byte stream into length-prefixed frames (4-byte big-endian length,
// then the payload). Frames may arrive split across reads or packed several
// per read; a zero-length frame is a frame. A length above the limit is a
// fatal stream error: the caller closes the connection (behavior.md §1.3).
//
// Owned by one connection; not thread-safe (the loop thread uses it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace bentos::wire {

class FrameDecoder {
 public:
  explicit FrameDecoder(uint64_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

  // Called once per complete frame with its payload; the pointer is valid
  // only during the call.
  using FrameFn = std::function<void(const uint8_t* payload, size_t len)>;

  // Feeds bytes. Returns false once a length prefix above the limit was
  // seen (oversized_length() tells it); later calls return false at once.
  bool feed(const uint8_t* data, size_t len, const FrameFn& on_frame);

  bool failed() const { return failed_; }
  uint64_t oversized_length() const { return oversized_length_; }
  // Bytes held for an incomplete frame.
  size_t buffered() const { return partial_.size(); }

 private:
  // Consumes whole frames from [data, data+len); returns bytes used, or
  // stops at the first incomplete frame.
  size_t take_frames(const uint8_t* data, size_t len, const FrameFn& on_frame);

  uint64_t max_frame_bytes_;
  std::string partial_;  // the start of an incomplete frame
  bool failed_ = false;
  uint64_t oversized_length_ = 0;
};

}  // namespace bentos::wire
