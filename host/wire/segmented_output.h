// Bytes waiting to be written to one connection: a string of inline bytes
// (frame prefixes, protobuf headers, small payloads, appended in place)
// with owned segments spliced in between at recorded offsets (large
// payloads, which keep their own buffers: byte_segments.h). The writer
// walks the pieces in order and hands them to one writev, so a large
// payload goes from the buffer it was produced in to the kernel with no
// copy in between.
//
// Owned by one net::Connection (which keeps two: one filling, one being
// written); loop thread only.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "wire/byte_segments.h"

namespace bentos::wire {

class SegmentedOutput {
 public:
  // Where frame headers and small payloads are appended.
  std::string& bytes() { return bytes_; }
  const std::string& bytes() const { return bytes_; }
  // Places `segment` after everything appended so far; later appends to
  // bytes() come after it. Its bytes are written from its own buffer.
  void splice(OwnedSegment&& segment);

  // Every byte waiting: inline and spliced.
  size_t size() const { return bytes_.size() + spliced_bytes_; }
  bool empty() const { return size() == 0; }
  size_t spliced_count() const { return spliced_.size(); }
  // The contiguous pieces in order, as fn(const char* data, size_t len),
  // leaving out the first `skip` bytes (already written) and empty pieces.
  template <class Fn>
  void for_each_piece(size_t skip, Fn&& fn) const;
  // Copies every byte into one string (tests; not the hot path).
  std::string flatten() const;

  // Drops everything (freeing the spliced buffers), keeping the inline
  // string's and the list's capacity for the next batch.
  void clear();
  void swap(SegmentedOutput& other) noexcept;

 private:
  struct Spliced {
    size_t at;  // bytes_.size() when it was spliced: it comes before bytes_[at]
    OwnedSegment segment;
  };
  std::string bytes_;
  std::vector<Spliced> spliced_;
  size_t spliced_bytes_ = 0;
};

template <class Fn>
void SegmentedOutput::for_each_piece(size_t skip, Fn&& fn) const {
  const auto emit = [&](const char* data, size_t len) {
    if (skip >= len) {
      skip -= len;
      return;
    }
    fn(data + skip, len - skip);
    skip = 0;
  };
  size_t inline_from = 0;
  for (const Spliced& s : spliced_) {
    emit(bytes_.data() + inline_from, s.at - inline_from);
    inline_from = s.at;
    emit(s.segment.view().data(), s.segment.len);
  }
  emit(bytes_.data() + inline_from, bytes_.size() - inline_from);
}

}  // namespace bentos::wire
