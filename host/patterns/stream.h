// P1 pure stream, one session (behavior.md §3, every [fix] row).
//
// A pure state machine: the output queue the plugin pushes into, reads that
// coalesce queued chunks up to `size`, parked reads when `read_when_empty`
// is block, and the bounded queue (max_buffered_bytes) with would-block
// pushes and a "writable again" notification. Writes go straight to the
// plugin's on_data (the session layer calls it); this class does not see
// them. No I/O, no plugin calls, no clocks.
//
// Owned by the session layer; loop thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "patterns/parked_reads.h"
#include "wire/ops.h"

namespace bentos::patterns {

enum class EmptyRead { eof, block };

// The P1 ops whose answer never depends on the session (§3): flush, fsync
// -> success; ioctl -> ENOSYS. Unset for every other op (open, write,
// release, read, poll need the session or the plugin).
std::optional<wire::Reply> stream_fixed_reply(wire::OpKind op);

class StreamMachine {
 public:
  StreamMachine(EmptyRead when_empty, bool nonblocking, uint64_t max_buffered_bytes);

  struct ReadResult {
    bool parked = false;  // no reply now: the token waits in the queue
    wire::Reply reply;    // when !parked
  };
  // Queue non-empty: coalesce chunks up to `size`, splitting the last one
  // (its rest stays at the head). Empty and the output ended
  // (end_output): EOF or the end's errno, every time. Empty otherwise: eof
  // -> buf{}; block -> EAGAIN for a non-blocking session, else park `token`. A read of size 0 answers
  // buf{} at once and never parks (as read(2) of 0 bytes on a pipe). The
  // reply carries the chunks themselves (Reply::segments; see take()).
  ReadResult read(uint64_t size, ReadToken token);

  struct PushResult {
    bool accepted = false;  // false: would block, or the output ended (nothing queued)
    bool ended_output = false;  // refused because end_output came first
    ParkedAnswers answers;  // parked reads served by this push
  };
  // Output from the plugin. Refused (would block) when the queue would grow
  // beyond max_buffered_bytes; a chunk is always accepted into an empty
  // queue, so a chunk larger than the bound can still make progress. Empty
  // pushes are accepted and ignored. Parked reads are served first. After
  // end_output, `ended_output` is set and nothing is queued.
  PushResult push(std::string_view data);

  // The plugin says this session's output is over (ABI 1.1 end_output):
  // `error` 0 for a clean end (readers get EOF once the queue is drained),
  // or a positive errno they get instead (sticky). Later pushes are
  // refused. Parked reads are answered now if the queue is empty (it is:
  // reads park only on an empty queue). False when the output had ended
  // already (the first end stands).
  bool end_output(int32_t error, ParkedAnswers& answers);
  bool output_ended() const { return output_ended_; }

  // True once after a refused push when the queue has drained to half the
  // bound or less: the session layer then calls the plugin's on_writable.
  bool take_writable_notice();

  // POLLOUT always, plus POLLIN when the queue is non-empty. Once the
  // output ended a read never blocks: POLLIN | POLLHUP.
  uint32_t poll() const;

  // The session ends (release): every parked read answers EIO, and the
  // queued output is dropped (nobody can read it any more). Later pushes
  // (a plugin thread racing the release) are accepted and discarded.
  ParkedAnswers end();

  uint64_t queued_bytes() const { return queued_bytes_; }
  size_t parked_reads() const { return parked_.size(); }

 private:
  // Takes up to `size` bytes from the queue head(s), as pieces that own
  // their buffers (wire::ByteSegments).
  wire::ByteSegments take(uint64_t size);

  EmptyRead when_empty_;
  bool nonblocking_;
  uint64_t max_buffered_bytes_;
  std::deque<std::string> chunks_;
  size_t head_offset_ = 0;  // bytes of chunks_.front() already read
  uint64_t queued_bytes_ = 0;
  std::deque<ParkedRead> parked_;
  bool refused_ = false;         // a push was refused since the last notice
  bool notice_pending_ = false;  // refused_ and the queue drained enough
  bool ended_ = false;
  bool output_ended_ = false;  // end_output was called
  int32_t output_error_ = 0;   // its errno (positive), 0 for EOF
};

}  // namespace bentos::patterns
