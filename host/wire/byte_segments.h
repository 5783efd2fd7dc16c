// A reply payload held as a list of owned pieces instead of one string, so
// bytes that already sit in buffers of their own (P1 output chunks) reach
// the socket without being copied together first: the reply encoder splices
// each large piece into the connection's output (segmented_output.h), which
// hands them to the kernel with one writev.
//
// Pieces smaller than kCopyBelow are copied instead, into a piece that
// gathers consecutive small ones: a writev entry per tiny piece would cost
// more than the memcpy it saves.
//
// The first kInlinePieces pieces live inside the object (a P1 read takes
// one or two chunks in the common case), so a reply carrying them makes no
// heap allocation for the list.
//
// Value type (copying copies the bytes; moving does not); no thread
// affinity.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bentos::wire {

// Below this many bytes, a piece is copied rather than carried separately
// to the socket.
inline constexpr size_t kCopyBelow = 4096;

// Bytes [offset, offset + len) of a string the piece owns: a chunk taken
// whole from a queue keeps its buffer, even when its head was read before.
struct OwnedSegment {
  std::string owner;
  size_t offset = 0;
  size_t len = 0;

  std::string_view view() const { return {owner.data() + offset, len}; }
};

class ByteSegments {
 public:
  // Takes bytes [offset, offset + len) of `owner` (moved in, not copied),
  // unless they are fewer than kCopyBelow: then they are copied.
  void append(std::string&& owner, size_t offset, size_t len);
  // Copies `bytes` to the end, into the last piece when that one gathers
  // copies (kCopyBelow).
  void append_copy(std::string_view bytes);

  size_t size() const { return bytes_; }  // all pieces' bytes
  bool empty() const { return bytes_ == 0; }
  size_t count() const { return count_; }
  OwnedSegment& operator[](size_t i) { return i < kInlinePieces ? inline_[i] : spilled_[i - kInlinePieces]; }
  const OwnedSegment& operator[](size_t i) const {
    return i < kInlinePieces ? inline_[i] : spilled_[i - kInlinePieces];
  }
  // All the bytes in one string (tests, clients, logs; not the hot path).
  std::string flatten() const;

  static constexpr size_t kInlinePieces = 2;

 private:
  OwnedSegment& add();

  std::array<OwnedSegment, kInlinePieces> inline_;
  std::vector<OwnedSegment> spilled_;  // pieces after the inline ones
  size_t count_ = 0;
  size_t bytes_ = 0;
  bool last_gathers_ = false;  // the last piece was built by append_copy
};

}  // namespace bentos::wire
