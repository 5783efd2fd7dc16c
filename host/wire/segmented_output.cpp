#include "wire/segmented_output.h"

#include <utility>

namespace bentos::wire {

void SegmentedOutput::splice(OwnedSegment&& segment) {
  if (segment.len == 0) return;
  spliced_bytes_ += segment.len;
  spliced_.push_back(Spliced{bytes_.size(), std::move(segment)});
}

std::string SegmentedOutput::flatten() const {
  std::string out;
  out.reserve(size());
  for_each_piece(0, [&out](const char* data, size_t len) { out.append(data, len); });
  return out;
}

void SegmentedOutput::clear() {
  bytes_.clear();
  spliced_.clear();
  spliced_bytes_ = 0;
}

void SegmentedOutput::swap(SegmentedOutput& other) noexcept {
  bytes_.swap(other.bytes_);
  spliced_.swap(other.spliced_);
  std::swap(spliced_bytes_, other.spliced_bytes_);
}

}  // namespace bentos::wire
