// Splits a byte stream into length-prefixed frames (4-byte big-endian length,
// then the payload). Frames may arrive split across reads or packed several
// per read; a zero-length frame is a frame. A length above the limit is a
// fatal stream error: the caller closes the connection (behavior.md §1.3).
//
// Whole frames in the fed bytes are handed on in place. Only an incomplete
// frame is copied, into a held buffer that grows toward the frame's size as
// its bytes arrive (never more than twice what arrived plus 256 KiB, so a
// length prefix alone reserves little); a reader may read the rest of a
// large frame straight into that buffer (direct_space / commit_direct)
// instead of feeding it, so a 64 KiB write is not copied together from
// pieces.
//
// Owned by one connection; not thread-safe (the loop thread uses it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

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

  // Where more of the held frame goes, when one is held whose missing part
  // is at least `min_bytes`: write up to `len` bytes there (at most the
  // buffer's room, which may be less than the missing part), then call
  // commit_direct. Null when there is no such frame (read and feed()).
  uint8_t* direct_space(size_t min_bytes, size_t& len);
  // `n` bytes were written at direct_space(); delivers the frame once whole.
  void commit_direct(size_t n, const FrameFn& on_frame);

  bool failed() const { return failed_; }
  uint64_t oversized_length() const { return oversized_length_; }
  // Bytes held for an incomplete frame, and the room reserved for it.
  size_t buffered() const { return held_; }
  size_t reserved() const { return capacity_; }

 private:
  // Consumes whole frames from [data, data+len); returns bytes used, or
  // stops at the first incomplete frame.
  size_t take_frames(const uint8_t* data, size_t len, const FrameFn& on_frame);
  // Appends to the held frame, growing the buffer without zero-filling.
  void hold(const uint8_t* data, size_t len);
  void reserve(size_t bytes);
  // Grows the buffer one step toward the held frame's full size `whole`.
  void grow_toward(size_t whole);
  // The held frame's full size (prefix + payload), 0 while its prefix is incomplete.
  size_t held_frame_size() const;
  // Hands the held frame, now complete, to on_frame.
  void deliver_held(const FrameFn& on_frame);

  uint64_t max_frame_bytes_;
  std::unique_ptr<uint8_t[]> buf_;  // the start of an incomplete frame
  size_t held_ = 0;                 // bytes of buf_ in use
  size_t capacity_ = 0;
  bool failed_ = false;
  uint64_t oversized_length_ = 0;
};

}  // namespace bentos::wire
