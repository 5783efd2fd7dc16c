#include "patterns/stream.h"

#include <algorithm>
#include <cerrno>
#include <utility>

#include "patterns/pattern.h"

namespace bentos::patterns {

using wire::OpKind;
using wire::Reply;

std::optional<Reply> stream_fixed_reply(OpKind op) {
  switch (op) {
    case OpKind::flush:
    case OpKind::fsync: return Reply::empty();
    case OpKind::ioctl: return Reply::error(ENOSYS);
    default: return std::nullopt;
  }
}

StreamMachine::StreamMachine(EmptyRead when_empty, bool nonblocking, uint64_t max_buffered_bytes)
    : when_empty_(when_empty), nonblocking_(nonblocking), max_buffered_bytes_(max_buffered_bytes) {}

StreamMachine::ReadResult StreamMachine::read(uint64_t size, ReadToken token) {
  ReadResult result;
  // Invariant: reads park only while the queue is empty (push serves them
  // before queueing), so a non-empty queue never jumps a parked read.
  if (queued_bytes_ > 0 || size == 0) {
    result.reply = Reply::segmented(take(size));
    return result;
  }
  if (output_ended_) {
    result.reply = output_error_ ? Reply::error(output_error_) : Reply::bytes({});
  } else if (when_empty_ == EmptyRead::eof) {
    result.reply = Reply::bytes({});
  } else if (nonblocking_) {
    result.reply = Reply::error(EAGAIN);
  } else {
    parked_.push_back(ParkedRead{token, size});
    result.parked = true;
  }
  return result;
}

StreamMachine::PushResult StreamMachine::push(std::string_view data) {
  PushResult result;
  if (output_ended_ && !ended_) {
    result.ended_output = true;
    return result;
  }
  result.accepted = true;
  if (data.empty() || ended_) return result;

  // Parked reads exist only with an empty queue: serve them straight from
  // this chunk, first come first served; a bigger chunk serves several.
  while (!parked_.empty() && !data.empty()) {
    const ParkedRead read = parked_.front();
    parked_.pop_front();
    const size_t n = static_cast<size_t>(std::min<uint64_t>(read.size, data.size()));
    result.answers.push_back(ParkedAnswer{read.token, Reply::bytes(std::string(data.substr(0, n)))});
    data.remove_prefix(n);
  }
  if (data.empty()) return result;

  // [fix] Backpressure. An empty queue always takes the chunk, so a chunk
  // larger than the bound still gets through instead of blocking forever.
  const bool would_exceed =
      queued_bytes_ >= max_buffered_bytes_ || data.size() > max_buffered_bytes_ - queued_bytes_;
  if (queued_bytes_ > 0 && would_exceed) {
    refused_ = true;
    result.accepted = false;
    return result;
  }
  chunks_.emplace_back(data);
  queued_bytes_ += data.size();
  return result;
}

bool StreamMachine::end_output(int32_t error, ParkedAnswers& answers) {
  if (output_ended_ || ended_) return false;
  output_ended_ = true;
  output_error_ = error;
  refused_ = false;  // nothing more will be pushed: no writable notice
  notice_pending_ = false;
  const Reply finished = error ? Reply::error(error) : Reply::bytes({});
  for (const ParkedRead& read : parked_) answers.push_back(ParkedAnswer{read.token, finished});
  parked_.clear();
  return true;
}

bool StreamMachine::take_writable_notice() {
  return std::exchange(notice_pending_, false);
}

uint32_t StreamMachine::poll() const {
  if (output_ended_) return kPollOut | kPollIn | kPollHup;
  return kPollOut | (queued_bytes_ > 0 ? kPollIn : 0u);
}

ParkedAnswers StreamMachine::end() {
  ParkedAnswers answers;
  for (const ParkedRead& read : parked_) answers.push_back(ParkedAnswer{read.token, Reply::error(EIO)});
  parked_.clear();
  chunks_.clear();
  head_offset_ = 0;
  queued_bytes_ = 0;
  refused_ = false;
  notice_pending_ = false;
  ended_ = true;
  return answers;
}

// The bytes leave in the chunks they were pushed in, without a copy:
//  - the rest of a chunk that the read takes to its end is moved out whole
//    (with the offset of what earlier reads took from its head);
//  - a chunk the read stops inside must be split: the smaller side is
//    copied (the part read, or the rest, which then becomes the new head
//    chunk), so a split copies at most half a chunk, and a read no larger
//    than the chunks pushed (a 64 KiB read of 64 KiB pushes) copies nothing.
// Shared buffers with offsets would avoid even the split's copy, but cost a
// reference count (and, from std::shared_ptr, an allocation) per push and
// per piece, for every chunk; moving keeps a chunk's one owner. Pieces
// below wire::kCopyBelow are gathered by copying (ByteSegments::append).
wire::ByteSegments StreamMachine::take(uint64_t size) {
  wire::ByteSegments out;
  while (out.size() < size && !chunks_.empty()) {
    std::string& head = chunks_.front();
    const size_t available = head.size() - head_offset_;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(available, size - out.size()));
    if (n == available) {
      out.append(std::move(head), head_offset_, n);
      chunks_.pop_front();
      head_offset_ = 0;
    } else if (n >= available - n && n >= wire::kCopyBelow) {
      // Most of the chunk is read: copy the rest into a new head chunk and
      // let the chunk's buffer carry the part read.
      std::string rest = head.substr(head_offset_ + n);
      out.append(std::move(head), head_offset_, n);
      head = std::move(rest);
      head_offset_ = 0;
    } else {
      out.append_copy(std::string_view(head).substr(head_offset_, n));
      head_offset_ += n;
    }
  }
  queued_bytes_ -= out.size();
  // The notice waits for a read that drains the queue: firing it on the
  // refusal itself would have the plugin retry into a queue still full.
  if (refused_ && !out.empty() && queued_bytes_ <= max_buffered_bytes_ / 2) {
    refused_ = false;
    notice_pending_ = true;
  }
  return out;
}

}  // namespace bentos::patterns
