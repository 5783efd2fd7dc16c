#include "wire/byte_segments.h"

#include <utility>

namespace bentos::wire {

OwnedSegment& ByteSegments::add() {
  ++count_;
  if (count_ <= kInlinePieces) return inline_[count_ - 1];
  return spilled_.emplace_back();
}

void ByteSegments::append(std::string&& owner, size_t offset, size_t len) {
  if (len < kCopyBelow) return append_copy(std::string_view(owner).substr(offset, len));
  OwnedSegment& piece = add();
  piece.owner = std::move(owner);
  piece.offset = offset;
  piece.len = len;
  bytes_ += len;
  last_gathers_ = false;
}

void ByteSegments::append_copy(std::string_view bytes) {
  if (bytes.empty()) return;
  bytes_ += bytes.size();
  if (last_gathers_) {
    OwnedSegment& last = (*this)[count_ - 1];
    last.owner.append(bytes);
    last.len += bytes.size();
    return;
  }
  OwnedSegment& piece = add();
  piece.owner.assign(bytes);
  piece.offset = 0;
  piece.len = bytes.size();
  last_gathers_ = true;
}

std::string ByteSegments::flatten() const {
  std::string out;
  out.reserve(bytes_);
  for (size_t i = 0; i < count_; ++i) out.append((*this)[i].view());
  return out;
}

}  // namespace bentos::wire
